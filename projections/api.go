package projections

import "errors"

// ErrNotFound: no such object visible (DELETED objects are never visible).
var ErrNotFound = errors.New("projections: not found")

// ErrInvalidQuery: a filter, sort key or marker the read model cannot serve;
// its message names the parameter (the API answers 400).
var ErrInvalidQuery = errors.New("projections: invalid query")

// SortKey is one key of `sort=key:dir`.
type SortKey struct {
	Key  string
	Desc bool
}

// ListOptions is a list query after the HTTP layer parsed it.
type ListOptions struct {
	ProjectID   string              // "" = every project (admin)
	Filters     map[string][]string // attribute -> any of these values (query parameters)
	Tags        []string            // all of these
	TagsAny     []string            // at least one of these
	NotTags     []string            // not all of these
	NotTagsAny  []string            // none of these
	Sort        []SortKey           // then created_at, id ascending unless listed (Octavia's defaults)
	Limit       int                 // page size, already bounded by the HTTP layer
	Marker      string              // id of the last object of the previous page
	PageReverse bool
}

// Page is one page of a list. NextMarker/PrevMarker are the markers of
// Octavia's "next"/"previous" links ("" = no such link).
type Page[T any] struct {
	Items      []T
	NextMarker string
	PrevMarker string
}
