package noopkit

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestNewValidatesFailOn(t *testing.T) {
	tests := []struct {
		name    string
		failOn  []string
		delay   time.Duration
		wantErr bool
	}{
		{"empty", nil, 0, false},
		{"own known op", []string{"compute.create_amphora"}, 0, false},
		{"other capability ignored", []string{"network.allocate_vip"}, 0, false},
		{"own unknown op", []string{"compute.create_amphor"}, 0, true},
		{"negative delay", nil, -time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("compute", []string{"create_amphora"}, Config{FailOn: tt.failOn, Delay: tt.delay})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestDoRecordsAndFails(t *testing.T) {
	ctx := context.Background()
	r, err := New("network", []string{"allocate_vip", "release_vip"}, Config{FailOn: []string{"network.release_vip"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Do(ctx, "allocate_vip", "lb=1"); err != nil {
		t.Fatalf("allocate: %v", err)
	}
	if err := r.Do(ctx, "release_vip", "lb=1"); !errors.Is(err, ErrInjected) {
		t.Fatalf("release: err = %v, want ErrInjected", err)
	}
	want := []Call{{"network.allocate_vip", "lb=1"}, {"network.release_vip", "lb=1"}}
	got := r.Calls()
	if len(got) != len(want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("call %d = %v, want %v", i, got[i], want[i])
		}
	}
	r.ClearFailures()
	if err := r.Do(ctx, "release_vip", "lb=1"); err != nil {
		t.Fatalf("release after ClearFailures: %v", err)
	}
	if n := r.Count("network.release_vip"); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
}

func TestFailNextIsTransient(t *testing.T) {
	ctx := context.Background()
	r, _ := New("amphora", []string{"update_config"}, Config{})
	boom := errors.New("boom")
	r.FailNext("amphora.update_config", 2, boom)
	var errs []error
	for range 3 {
		errs = append(errs, r.Do(ctx, "update_config", ""))
	}
	if !errors.Is(errs[0], boom) || !errors.Is(errs[1], boom) || errs[2] != nil {
		t.Fatalf("errors = %v, want boom, boom, nil", errs)
	}
}

func TestDoHonoursContext(t *testing.T) {
	r, _ := New("compute", []string{"create_amphora"}, Config{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Do(ctx, "create_amphora", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Do did not stop waiting when the context ended")
	}
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	r.SetDelay(0)
	if err := r.Do(done, "create_amphora", ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
}
