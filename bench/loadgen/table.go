package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Table is one section of the printed report.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
}

// Add appends a row (cells beyond the header are kept; missing ones blank).
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Write prints the table with aligned columns.
func (t Table) Write(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "\n%s\n", t.Title); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  "+strings.Join(t.Header, "\t"))
	for _, r := range t.Rows {
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// fmtMs prints milliseconds with precision that suits the magnitude.
func fmtMs(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// fmtRate prints a per-second rate.
func fmtRate(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// fmtRatio prints a ratio as "N×"; "-" when either side is missing.
func fmtRatio(num, den float64) string {
	if num <= 0 || den <= 0 {
		return "-"
	}
	x := num / den
	switch {
	case x >= 10:
		return fmt.Sprintf("%.0f×", x)
	case x >= 1:
		return fmt.Sprintf("%.1f×", x)
	case x >= 0.01:
		return fmt.Sprintf("%.2f×", x)
	default:
		return fmt.Sprintf("%.4f×", x)
	}
}

// fmtCount prints an integer with thousands separators (10,000).
func fmtCount(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// aim prints whether value (ms) is below limit, for the aims the issue sets.
func aim(what string, value, limit float64) string {
	if value <= 0 {
		return what + fmt.Sprintf(" < %.0f ms: not measured", limit)
	}
	if value < limit {
		return what + fmt.Sprintf(" < %.0f ms: met", limit)
	}
	return what + fmt.Sprintf(" < %.0f ms: NOT met", limit)
}
