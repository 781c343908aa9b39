package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Handler is called with every accepted heartbeat, one at a time in arrival
// order (so a handler sees an amphora's messages in order); it should return
// quickly, packets queue in the socket buffer meanwhile.
type Handler func(ctx context.Context, m Message, from netip.AddrPort)

// Dropped counts the packets a Receiver dropped, by reason.
type Dropped struct {
	BadHMAC   uint64 // forged, or signed with another key
	Malformed uint64 // truncated, oversized, not zlib, not JSON, no id
	Replayed  uint64 // see the replay rule in replay.go
}

// Receiver is the health manager side: it reads heartbeats from a UDP
// socket (Octavia's UDPStatusGetter), verifies and decodes them, drops
// replays and passes the rest to a Handler.
type Receiver struct {
	conn   *net.UDPConn
	key    []byte
	handle Handler
	log    *slog.Logger
	guard  *replayGuard

	badHMAC, malformed, replayed, accepted atomic.Uint64

	warnMu   sync.Mutex
	lastWarn map[string]time.Time

	closeOnce sync.Once
}

// Defaults of the replay rule (see replay.go).
const (
	DefaultRestartGap = 10 * time.Second
	defaultStateTTL   = time.Hour
)

// NewReceiver binds addr (host:port; port 0 picks one, see Addr) and returns
// a receiver that checks HMACs with key. Call Run to serve.
func NewReceiver(addr string, key []byte, handle Handler, log *slog.Logger) (*Receiver, error) {
	if len(key) == 0 {
		return nil, errors.New("heartbeat: empty HMAC key")
	}
	if handle == nil {
		return nil, errors.New("heartbeat: nil handler")
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("heartbeat: receiver address %q: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("heartbeat: listen on %s: %w", addr, err)
	}
	return &Receiver{
		conn: conn, key: key, handle: handle, log: log,
		guard:    newReplayGuard(DefaultRestartGap, defaultStateTTL),
		lastWarn: map[string]time.Time{},
	}, nil
}

// Addr is the bound address.
func (r *Receiver) Addr() net.Addr { return r.conn.LocalAddr() }

// Dropped returns the drop counters so far.
func (r *Receiver) Dropped() Dropped {
	return Dropped{BadHMAC: r.badHMAC.Load(), Malformed: r.malformed.Load(), Replayed: r.replayed.Load()}
}

// Accepted is the number of heartbeats passed to the handler so far.
func (r *Receiver) Accepted() uint64 { return r.accepted.Load() }

// Close releases the socket; Run does it when it returns.
func (r *Receiver) Close() error {
	var err error
	r.closeOnce.Do(func() { err = r.conn.Close() })
	return err
}

// Run reads heartbeats until ctx ends, then closes the socket.
func (r *Receiver) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = r.Close() })
	defer stop()
	defer r.Close()

	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	buf := make([]byte, MaxEnvelope+1)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("heartbeat: read: %w", err)
		}
		select {
		case now := <-sweep.C:
			r.guard.sweep(now)
		default:
		}
		r.process(ctx, buf[:n], from)
	}
}

func (r *Receiver) process(ctx context.Context, b []byte, from netip.AddrPort) {
	m, err := Decode(b, r.key)
	switch {
	case errors.Is(err, ErrBadHMAC):
		r.badHMAC.Add(1)
		r.warn("bad_hmac", "heartbeat dropped: HMAC mismatch (wrong key or forged)", "from", from)
		return
	case err != nil:
		r.malformed.Add(1)
		r.warn("malformed", "heartbeat dropped: malformed", "from", from, "err", err)
		return
	}
	if !r.guard.accept(m, time.Now()) {
		r.replayed.Add(1)
		r.warn("replayed", "heartbeat dropped: replayed", "from", from, "amphora_id", m.AmphoraID, "seq", m.Seq)
		return
	}
	r.accepted.Add(1)
	r.handle(ctx, m, from)
}

// warn logs a drop at most once a minute per kind (a flood of bad packets
// must not flood the log; the counters keep the totals) and at debug level
// otherwise.
func (r *Receiver) warn(kind, msg string, args ...any) {
	r.warnMu.Lock()
	now := time.Now()
	loud := now.Sub(r.lastWarn[kind]) >= time.Minute
	if loud {
		r.lastWarn[kind] = now
	}
	r.warnMu.Unlock()
	if loud {
		r.log.Warn(msg, args...)
	} else {
		r.log.Debug(msg, args...)
	}
}
