package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// SSEResult is the event stream fan-out figure: Subscribers clients of GET
// /v2/lbaas/events/stream on a server of their own while load balancers are
// created at a steady rate; the latency of each delivery runs from the
// event's time (stamped by the store as it appends) to its arrival at the
// client. Its baseline hands timestamps to as many goroutines over
// channels, at the same event rate, in this process.
type SSEResult struct {
	Skipped     string   `json:"skipped,omitempty"`
	Subscribers int      `json:"subscribers"`
	Creates     int      `json:"creates"`
	Events      int      `json:"events"`       // distinct events delivered
	EventsPerS  float64  `json:"events_per_s"` // appended while measuring
	Deliveries  Summary  `json:"deliveries"`   // append → client, every subscriber's every event
	Channel     Summary  `json:"channel"`      // the baseline
	Gaps        int      `json:"gaps"`         // missing positions, summed over subscribers
	Duplicates  int      `json:"duplicates"`   // positions seen twice or out of order
	Incomplete  int      `json:"incomplete"`   // subscribers that missed the tail
	Errors      []string `json:"errors,omitempty"`
}

// SSEPlan bounds the figure.
type SSEPlan struct {
	Subscribers int
	CreateRate  float64       // load balancer creates per second
	Duration    time.Duration // of the steady load
	Drain       time.Duration // longest wait for the tail after the load
}

// DefaultSSEPlan is about 15 s.
func DefaultSSEPlan() SSEPlan {
	return SSEPlan{Subscribers: 100, CreateRate: 25, Duration: 8 * time.Second, Drain: 10 * time.Second}
}

// sseDelivery is one event as one subscriber received it.
type sseDelivery struct {
	position int64
	latency  time.Duration
}

// RunSSE starts a server, subscribes, drives the load and measures.
func RunSSE(ctx context.Context, o options, plan SSEPlan, log *slog.Logger) SSEResult {
	res := SSEResult{Subscribers: plan.Subscribers}
	logFile, err := os.Create(filepath.Join(o.out, "server-sse.log"))
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res
	}
	defer logFile.Close()
	log.Info("event stream fan-out", "subscribers", plan.Subscribers, "creates_per_s", plan.CreateRate, "for", plan.Duration)
	srv, err := StartServer(ctx, o.bin, o.config, logFile, 30*time.Second)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res
	}
	defer srv.Stop()
	subnet := o.subnet
	if subnet == "" {
		subnet = subnetFromConfig(o.config)
	}
	measureSSE(ctx, srv.URL, o.project, subnet, plan, &res)
	res.Channel = channelBaseline(plan.Subscribers, res.EventsPerS, res.Events)
	return res
}

// measureSSE runs the figure against the server at base.
func measureSSE(ctx context.Context, base, project, subnet string, plan SSEPlan, res *SSEResult) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streamClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: plan.Subscribers, DisableCompression: true}}
	subs := make([][]sseDelivery, plan.Subscribers)
	ready := make(chan error, plan.Subscribers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var maxSeen int64
	for i := range plan.Subscribers {
		wg.Go(func() {
			err := subscribe(ctx, streamClient, base, project, ready, func(d sseDelivery) {
				subs[i] = append(subs[i], d)
				mu.Lock()
				maxSeen = max(maxSeen, d.position)
				mu.Unlock()
			})
			if err != nil && ctx.Err() == nil {
				mu.Lock()
				res.Errors = append(res.Errors, fmt.Sprintf("subscriber %d: %v", i, err))
				mu.Unlock()
			}
		})
	}
	for range plan.Subscribers {
		if err := <-ready; err != nil {
			res.Errors = append(res.Errors, "subscribe: "+err.Error())
			cancel()
			wg.Wait()
			return
		}
	}

	// The steady load: creates at CreateRate, the sagas' events after them.
	c := NewClient(base, project, subnet, 8)
	defer c.Close()
	tick := time.NewTicker(time.Duration(float64(time.Second) / plan.CreateRate))
	defer tick.Stop()
	start := time.Now()
	var creates sync.WaitGroup
	for time.Since(start) < plan.Duration && ctx.Err() == nil {
		<-tick.C
		res.Creates++
		n := res.Creates
		creates.Go(func() {
			if _, err := c.CreateLB(ctx, fmt.Sprintf("sse-%d", n)); err != nil && ctx.Err() == nil {
				mu.Lock()
				res.Errors = append(res.Errors, "create: "+err.Error())
				mu.Unlock()
			}
		})
	}
	creates.Wait()
	loadWall := time.Since(start)

	// The tail: every subscriber reaches the last position any saw, once the
	// sagas are done (positions stop growing for a second).
	deadline := time.Now().Add(plan.Drain)
	var last int64
	stable := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		seen := maxSeen
		done := true
		for _, s := range subs {
			if len(s) == 0 || s[len(s)-1].position < seen {
				done = false
				break
			}
		}
		mu.Unlock()
		if seen != last {
			last, stable = seen, time.Now()
		}
		if done && time.Since(stable) > time.Second {
			break
		}
	}
	cancel()
	wg.Wait()

	var lat []time.Duration
	positions := map[int64]bool{}
	for _, s := range subs {
		if len(s) == 0 || s[len(s)-1].position < last {
			res.Incomplete++
		}
		for j, d := range s {
			lat = append(lat, d.latency)
			positions[d.position] = true
			if j > 0 {
				switch prev := s[j-1].position; {
				case d.position <= prev:
					res.Duplicates++
				case d.position > prev+1:
					res.Gaps += int(d.position - prev - 1)
				}
			}
		}
	}
	res.Events = len(positions)
	res.EventsPerS = float64(res.Events) / loadWall.Seconds()
	res.Deliveries = Summarize(Sample{Latencies: lat, Wall: loadWall})
}

// subscribe reads the stream until ctx ends; ready gets nil once the
// opening message arrived (or the error that prevented it).
func subscribe(ctx context.Context, hc *http.Client, base, project string, ready chan<- error, got func(sseDelivery)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v2/lbaas/events/stream", nil)
	if err != nil {
		ready <- err
		return err
	}
	req.Header.Set("X-Project-Id", project)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		ready <- err
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := fmt.Errorf("status %d: %s", resp.StatusCode, body)
		ready <- err
		return err
	}
	rd := bufio.NewReaderSize(resp.Body, 64<<10)
	opened := false
	var event, data []byte
	for {
		line, err := rd.ReadSlice('\n')
		if err != nil {
			if !opened {
				ready <- err
			}
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0: // end of a message
			if !opened {
				opened = true
				ready <- nil
			}
			if len(data) > 0 && string(event) != "error" {
				var it struct {
					Position int64  `json:"position"`
					Time     string `json:"time"`
				}
				if err := json.Unmarshal(data, &it); err != nil {
					return fmt.Errorf("event %q: %w", data, err)
				}
				t, err := time.Parse(time.RFC3339Nano, it.Time)
				if err != nil {
					return fmt.Errorf("event time %q: %w", it.Time, err)
				}
				got(sseDelivery{position: it.Position, latency: time.Since(t)})
			} else if string(event) == "error" {
				return fmt.Errorf("stream ended: %s", data)
			}
			event, data = event[:0], data[:0]
		case bytes.HasPrefix(line, []byte("event: ")):
			event = append(event[:0], line[len("event: "):]...)
		case bytes.HasPrefix(line, []byte("data: ")):
			data = append(data[:0], line[len("data: "):]...)
		}
	}
}

// channelBaseline hands events timestamps to subscribers goroutines over
// buffered channels, one per subscriber, at rate events per second, and
// returns the latencies of the hand-offs: the floor of any fan-out in Go
// on this machine at this moment.
func channelBaseline(subscribers int, rate float64, events int) Summary {
	if rate <= 0 || events <= 0 {
		return Summary{}
	}
	chans := make([]chan time.Time, subscribers)
	lat := make([][]time.Duration, subscribers)
	var wg sync.WaitGroup
	for i := range chans {
		chans[i] = make(chan time.Time, 256)
		wg.Go(func() {
			for t := range chans[i] {
				lat[i] = append(lat[i], time.Since(t))
			}
		})
	}
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for n := range events {
		if d := time.Until(start.Add(time.Duration(n) * interval)); d > 0 {
			time.Sleep(d)
		}
		now := time.Now()
		for _, c := range chans {
			c <- now
		}
	}
	for _, c := range chans {
		close(c)
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return Summarize(Sample{Latencies: all, Wall: time.Since(start)})
}

// sseProblems lists what misbehaved (not slowness).
func sseProblems(r SSEResult) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, "event stream: "+e)
	}
	if r.Gaps > 0 || r.Duplicates > 0 || r.Incomplete > 0 {
		out = append(out, "event stream: "+strconv.Itoa(r.Gaps)+" gaps, "+strconv.Itoa(r.Duplicates)+
			" duplicates, "+strconv.Itoa(r.Incomplete)+" subscribers without the tail")
	}
	return out
}
