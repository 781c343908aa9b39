package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Query parameters that are not filters (Octavia's
// PaginationHelper._auxiliary_arguments): tolerated in Filters and ignored.
var auxiliaryParams = map[string]bool{
	"limit": true, "marker": true, "sort": true, "sort_key": true, "sort_dir": true,
	"fields": true, "page_reverse": true,
}

// cond is one SQL condition with its arguments.
type cond struct {
	sql  string
	args []any
}

// sortTerm is one ORDER BY term; desc is the direction actually queried.
type sortTerm struct {
	key  string
	expr string
	desc bool
}

// listRaw runs a list query on res and returns the stored documents.
//
// Semantics follow Octavia's PaginationHelper: filters are equality on an
// attribute (several values of one attribute: any of them); tags filters as
// Octavia's; the sort keys are the given ones followed by created_at and id
// ascending (Octavia's defaults) when absent, so the order is total; the
// marker is the id of the last item of the previous page, looked up in the
// whole table; the next link exists when the page is full, the previous link
// whenever a marker was given and the page is not empty.
//
// One deliberate difference: with page_reverse Octavia only flips the marker
// comparison and so returns the first page of the list instead of the page
// before the marker; here the page is the one just before the marker, in the
// list's order, so paging backwards visits every item exactly once.
func (rm *ReadModel) listRaw(ctx context.Context, res resource, fixed []cond, o ListOptions) (Page[json.RawMessage], error) {
	conds := append([]cond(nil), fixed...)
	if o.ProjectID != "" {
		conds = append(conds, cond{"t.project_id = ?", []any{o.ProjectID}})
	}
	fc, err := filterConds(rm.d, res, o)
	if err != nil {
		return Page[json.RawMessage]{}, err
	}
	conds = append(conds, fc...)

	terms, err := sortTerms(rm.d, res, o.Sort)
	if err != nil {
		return Page[json.RawMessage]{}, err
	}
	// Without a marker page_reverse changes nothing in Octavia either.
	reverse := o.PageReverse && o.Marker != ""
	if reverse {
		for i := range terms {
			terms[i].desc = !terms[i].desc
		}
	}
	if o.Marker != "" {
		c, err := rm.keyset(ctx, res, terms, o.Marker)
		if err != nil {
			return Page[json.RawMessage]{}, err
		}
		conds = append(conds, c)
	}

	var q strings.Builder
	var args []any
	q.WriteString("SELECT t.id, t.doc FROM " + res.table.String() + " t")
	for i, c := range conds {
		if i == 0 {
			q.WriteString(" WHERE ")
		} else {
			q.WriteString(" AND ")
		}
		q.WriteString(c.sql)
		args = append(args, c.args...)
	}
	q.WriteString(" ORDER BY ")
	for i, t := range terms {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(t.expr)
		if t.desc {
			q.WriteString(" DESC")
		}
	}
	if o.Limit > 0 {
		q.WriteString(" LIMIT ?")
		args = append(args, o.Limit)
	}

	rows, err := rm.read.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return Page[json.RawMessage]{}, fmt.Errorf("projections: list %s: %w", res.table, err)
	}
	defer rows.Close()
	var ids []string
	docs := []json.RawMessage{}
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return Page[json.RawMessage]{}, fmt.Errorf("projections: list %s: %w", res.table, err)
		}
		ids = append(ids, id)
		docs = append(docs, doc)
	}
	if err := rows.Err(); err != nil {
		return Page[json.RawMessage]{}, fmt.Errorf("projections: list %s: %w", res.table, err)
	}
	if reverse {
		slices.Reverse(ids)
		slices.Reverse(docs)
	}

	page := Page[json.RawMessage]{Items: docs}
	if len(ids) > 0 {
		if o.Marker != "" {
			page.PrevMarker = ids[0]
		}
		if o.Limit > 0 && len(ids) >= o.Limit {
			page.NextMarker = ids[len(ids)-1]
		}
	}
	return page, nil
}

// sortTerms validates the requested keys and completes them with Octavia's
// default keys (created_at, id; ascending).
func sortTerms(d *dialect, res resource, keys []SortKey) ([]sortTerm, error) {
	var terms []sortTerm
	seen := map[string]bool{}
	add := func(k SortKey) error {
		a, ok := res.attrs[k.Key]
		if !ok {
			return invalidSortKey(k.Key)
		}
		if !seen[k.Key] {
			seen[k.Key] = true
			terms = append(terms, sortTerm{key: k.Key, expr: sortExpr(d, a), desc: k.Desc})
		}
		return nil
	}
	for _, k := range keys {
		if err := add(k); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"created_at", "id"} {
		if err := add(SortKey{Key: k}); err != nil {
			return nil, err
		}
	}
	return terms, nil
}

// sortExpr never yields NULL (NULL sorts as Octavia's column default, the
// empty string or 0), so ordering and the keyset comparison agree.
func sortExpr(d *dialect, a attr) string {
	e := d.expr(a)
	if a.notNull {
		return e
	}
	switch a.kind {
	case kInt, kFloat, kBool:
		return "COALESCE(" + e + ", 0)"
	}
	return "COALESCE(" + e + ", '')"
}

// keyset is the condition selecting the rows after the marker row in the
// order of terms: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., written as one
// row-value comparison when every term has the same direction (an index on
// the keys then serves it).
func (rm *ReadModel) keyset(ctx context.Context, res resource, terms []sortTerm, marker string) (cond, error) {
	exprs := make([]string, len(terms))
	for i, t := range terms {
		exprs[i] = t.expr
	}
	vals := make([]any, len(terms))
	ptrs := make([]any, len(terms))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := rm.read.QueryRowContext(ctx,
		"SELECT "+strings.Join(exprs, ", ")+" FROM "+res.table.String()+" t WHERE t.id = ?", marker).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return cond{}, invalidMarker(marker)
	}
	if err != nil {
		return cond{}, fmt.Errorf("projections: read marker: %w", err)
	}

	same := true
	for _, t := range terms[1:] {
		if t.desc != terms[0].desc {
			same = false
		}
	}
	if same {
		op := ">"
		if terms[0].desc {
			op = "<"
		}
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(terms)), ", ")
		return cond{"(" + strings.Join(exprs, ", ") + ") " + op + " (" + ph + ")", vals}, nil
	}
	// Mixed directions: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., behind a
	// bound on k1 alone (implied by it) that lets an index on k1 seek.
	first := " >= ?"
	if terms[0].desc {
		first = " <= ?"
	}
	ors := []string{}
	args := []any{vals[0]}
	for i, t := range terms {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, terms[j].expr+" = ?")
			args = append(args, vals[j])
		}
		op := " > ?"
		if t.desc {
			op = " < ?"
		}
		ands = append(ands, t.expr+op)
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return cond{terms[0].expr + first + " AND (" + strings.Join(ors, " OR ") + ")", args}, nil
}

// filterConds turns Filters and the tag lists into conditions. An attribute
// Octavia does not know is refused, as Octavia's InvalidFilterArgument.
func filterConds(d *dialect, res resource, o ListOptions) ([]cond, error) {
	tags := map[string][]string{
		"tags": o.Tags, "tags-any": o.TagsAny, "not-tags": o.NotTags, "not-tags-any": o.NotTagsAny,
	}
	keys := make([]string, 0, len(o.Filters))
	for k := range o.Filters {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic SQL
	var conds []cond
	for _, k := range keys {
		vals := o.Filters[k]
		if auxiliaryParams[k] {
			continue
		}
		if _, ok := tags[k]; ok {
			tags[k] = append(slices.Clone(tags[k]), vals...)
			continue
		}
		a, ok := res.attrs[k]
		if !ok {
			return nil, invalidFilter(k)
		}
		if len(vals) == 0 {
			continue
		}
		conds = append(conds, equalAny(d, a, vals))
	}
	if !res.noTags {
		conds = append(conds, tagConds(d, tags)...)
	}
	return conds, nil
}

// equalAny: the attribute equals one of vals, each converted to the
// attribute's type. A value that cannot be converted matches nothing.
func equalAny(d *dialect, a attr, vals []string) cond {
	var args []any
	for _, v := range vals {
		switch a.kind {
		case kInt:
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				args = append(args, n)
			}
		case kFloat:
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				args = append(args, f)
			}
		case kBool:
			if boolFromString(v) {
				args = append(args, 1)
			} else {
				args = append(args, 0)
			}
		case kTime:
			args = append(args, strings.Replace(v, " ", "T", 1))
		default:
			args = append(args, v)
		}
	}
	if len(args) == 0 {
		return cond{sql: "FALSE"}
	}
	e := d.expr(a)
	if len(args) == 1 {
		return cond{e + " = ?", args}
	}
	return cond{e + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")", args}
}

// boolFromString is oslo.utils strutils.bool_from_string (default False).
func boolFromString(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

// tagConds: tags = has all; tags-any = has one; not-tags = lacks at least
// one; not-tags-any = has none. Values may be comma-separated, as Octavia's
// _prepare_tags_list splits them.
func tagConds(d *dialect, tags map[string][]string) []cond {
	tagExists := d.tagExists()
	split := func(in []string) []any {
		var out []any
		for _, v := range in {
			for _, t := range strings.Split(v, ",") {
				out = append(out, t)
			}
		}
		return out
	}
	in := func(n int) string { return "IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + "))" }
	var conds []cond
	if all := split(tags["tags"]); len(all) > 0 {
		for _, t := range all {
			conds = append(conds, cond{tagExists + "= ?)", []any{t}})
		}
	}
	if anyOf := split(tags["tags-any"]); len(anyOf) > 0 {
		conds = append(conds, cond{tagExists + in(len(anyOf)), anyOf})
	}
	if notAll := split(tags["not-tags"]); len(notAll) > 0 {
		parts := make([]string, len(notAll))
		for i := range notAll {
			parts[i] = tagExists + "= ?)"
		}
		conds = append(conds, cond{"NOT (" + strings.Join(parts, " AND ") + ")", notAll})
	}
	if none := split(tags["not-tags-any"]); len(none) > 0 {
		conds = append(conds, cond{"NOT " + tagExists + in(len(none)), none})
	}
	return conds
}
