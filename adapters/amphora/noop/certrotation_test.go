package noop

import (
	"context"
	"errors"
	"testing"

	"github.com/octavia-es/octavia-es/events"
)

func TestCertificateRotator(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	amp := events.Amphora{ID: "a1"}
	exp, err := d.CertificateExpiry(context.Background(), amp)
	if err != nil || !exp.IsZero() {
		t.Fatalf("expiry = %v, %v; want zero (nothing to rotate)", exp, err)
	}
	if err := d.RotateCertificate(context.Background(), amp, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := d.Count(OpRotateCertificate); n != 1 {
		t.Fatalf("rotate calls = %d, want 1", n)
	}
	boom := errors.New("boom")
	d.FailOn(OpRotateCertificate, boom)
	if err := d.RotateCertificate(context.Background(), amp, nil, nil); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the injected failure", err)
	}
}
