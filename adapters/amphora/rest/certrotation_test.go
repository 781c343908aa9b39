package rest

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRotateCertificate(t *testing.T) {
	requireHAProxy(t)
	c := newController(t)
	ctx := context.Background()
	amp, _ := c.bootAmphora(t, "6c7d8e9f-0000-4000-8000-0000000000f5")

	before, err := c.drv.CertificateExpiry(ctx, amp)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(before); d <= 0 || d > time.Hour {
		t.Fatalf("expiry in %v, want within the boot certificate's hour", d)
	}

	other, otherKey, err := c.ca.IssueServer(ctx, "another-amphora", []string{"127.0.0.1"}, 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	err = c.drv.RotateCertificate(ctx, amp, other, otherKey)
	var ae *AgentError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("another amphora's certificate: %v, want the agent's 400", err)
	}

	cert, key, err := c.ca.IssueServer(ctx, amp.ID, []string{"127.0.0.1"}, 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.drv.RotateCertificate(ctx, amp, cert, key); err != nil {
		t.Fatal(err)
	}
	// A new connection verifies the new certificate against the amphora id.
	after, err := c.drv.CertificateExpiry(ctx, amp)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(after); d < 2*time.Hour {
		t.Fatalf("expiry in %v after the rotation, want the new certificate's 3h", d)
	}
	if _, err := c.drv.GetInfo(ctx, amp); err != nil {
		t.Fatalf("the driver after the rotation: %v", err)
	}

	noIP := amp
	noIP.LBNetworkIP = nil
	if err := c.drv.RotateCertificate(ctx, noIP, cert, key); err == nil {
		t.Fatal("an amphora without lb_network_ip: want an error")
	}
}
