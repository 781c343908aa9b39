package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/octavia-es/octavia-es/projections"
)

// replayProgress renders projections.ReplayProgress: a bar redrawn in place
// on a terminal, plain lines otherwise (a log file, a pipe, CI).
type replayProgress struct {
	w        io.Writer
	terminal bool
	every    time.Duration // least time between two renderings
	width    int           // of the bar, in cells

	last      time.Time
	lastPhase projections.ReplayPhase
	drawn     bool // a bar is on the line (terminal)
}

func newReplayProgress(w io.Writer) *replayProgress {
	p := &replayProgress{w: w, terminal: isTerminal(w), every: 2 * time.Second, width: 30}
	if p.terminal {
		p.every = 100 * time.Millisecond
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal), the
// check isatty(3) makes, with the standard library only.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// report renders p unless the previous rendering is too recent; a new
// phase is always rendered.
func (r *replayProgress) report(now time.Time, p projections.ReplayProgress) {
	if p.Phase == r.lastPhase && now.Sub(r.last) < r.every {
		return
	}
	r.last, r.lastPhase = now, p.Phase
	if r.terminal {
		// \r and erase the line: redraw in place.
		fmt.Fprintf(r.w, "\r\x1b[K%s", r.bar(p))
		r.drawn = true
		if p.Phase == projections.ReplayDone {
			r.finish()
		}
		return
	}
	fmt.Fprintf(r.w, "replay: %s\n", r.line(p))
}

// finish ends the bar's line (before any other output).
func (r *replayProgress) finish() {
	if r.drawn {
		fmt.Fprintln(r.w)
		r.drawn = false
	}
}

func (r *replayProgress) bar(p projections.ReplayProgress) string {
	frac := fraction(p)
	filled := int(frac * float64(r.width))
	return fmt.Sprintf("%-8s [%s%s] %3.0f%%  %s", p.Phase, strings.Repeat("#", filled),
		strings.Repeat("-", r.width-filled), frac*100, stats(p))
}

func (r *replayProgress) line(p projections.ReplayProgress) string {
	return fmt.Sprintf("%s %3.0f%%  %s", p.Phase, fraction(p)*100, stats(p))
}

func fraction(p projections.ReplayProgress) float64 {
	if p.Target <= 0 || p.Position >= p.Target {
		return 1
	}
	return float64(p.Position) / float64(p.Target)
}

// stats is "position/target events, rate, ETA".
func stats(p projections.ReplayProgress) string {
	s := fmt.Sprintf("%s/%s events", thousands(p.Position), thousands(p.Target))
	secs := p.Elapsed.Seconds()
	if secs <= 0 || p.Events == 0 {
		return s
	}
	rate := float64(p.Events) / secs
	s += fmt.Sprintf("  %s events/s", thousands(int64(rate)))
	if left := p.Target - p.Position; left > 0 && (p.Phase == projections.ReplayBuild || p.Phase == projections.ReplayCatchUp) {
		s += "  ETA " + time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second).String()
	}
	return s
}

// thousands writes n with commas: 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
