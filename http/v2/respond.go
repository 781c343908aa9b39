package v2

import (
	"context"
	"encoding/json"
	"github.com/go-chi/chi/v5"
	"github.com/octavia-es/octavia-es/projections"
	"net/http"

	"github.com/octavia-es/octavia-es/http/fault"
)

// writeOne answers {"<key>": v}, keeping only fields when given
// (Octavia's ?fields=, repeatable).
func (a *API) writeOne(w http.ResponseWriter, r *http.Request, status int, key string, v any, fields []string) {
	obj, err := selectFields(v, fields)
	if err != nil {
		fault.Write(w, a.internal(r.Context(), "render response", err))
		return
	}
	fault.WriteJSON(w, status, map[string]any{key: obj})
}

// writeList answers {"<key>": [...], "<key>_links": [...]}.
// rawList fetches one page of stored documents.
type rawList func(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error)

// list answers GET on a collection: parse the list parameters, wait for the
// read model to reach the latest write, fetch the page and write it with its
// links. A not-found from fetch (the parent vanished) is a 404 of notFound.
func (a *API) list(w http.ResponseWriter, r *http.Request, key string, fetch rawList, notFound ...*fault.Error) {
	q, ferr := a.parseList(r)
	if ferr == nil {
		ferr = a.catchUp(r.Context())
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	page, err := fetch(r.Context(), q.opts)
	if err != nil {
		var nf *fault.Error
		if len(notFound) > 0 {
			nf = notFound[0]
		}
		fault.Write(w, a.readError(r.Context(), err, nf))
		return
	}
	writeList(a, w, r, key, q, page.Items)
}

func writeList(a *API, w http.ResponseWriter, r *http.Request, key string, q listQuery, items []json.RawMessage) {
	var first, last string
	if len(items) > 0 {
		first, last = docID(items[0]), docID(items[len(items)-1])
	}
	links, err := json.Marshal(a.links(r, q, first, last, len(items)))
	if err != nil {
		fault.Write(w, a.internal(r.Context(), "render response", err))
		return
	}
	// The stored documents are written as they are: re-encoding them through
	// encoding/json would validate and compact every byte of every item.
	size := len(key)*2 + len(links) + 32
	for i, it := range items {
		if q.fields != nil {
			obj, err := selectFields(it, q.fields)
			if err != nil {
				fault.Write(w, a.internal(r.Context(), "render response", err))
				return
			}
			if items[i], err = json.Marshal(obj); err != nil {
				fault.Write(w, a.internal(r.Context(), "render response", err))
				return
			}
		}
		size += len(items[i]) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, `{"`...)
	buf = append(buf, key...)
	buf = append(buf, `":[`...)
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, it...)
	}
	buf = append(buf, `],"`...)
	buf = append(buf, key...)
	buf = append(buf, `_links":`...)
	buf = append(buf, links...)
	buf = append(buf, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf) // the client may be gone; nothing left to tell it
}

// docID is the "id" of a stored document ("" if it has none).
func docID(doc json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(doc, &v)
	return v.ID
}

// selectFields returns v itself, or only its attributes named in fields.
func selectFields(v any, fields []string) (any, error) {
	if fields == nil {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for _, f := range fields {
		if raw, ok := all[f]; ok {
			out[f] = raw
		}
	}
	return out, nil
}

// noContent answers 202/204 without a body, as Octavia does.
func noContent(w http.ResponseWriter, status int) {
	w.WriteHeader(status)
}

// readVisible reads one object for the caller: after the latest write (read
// your writes), 404 named as Octavia names the resource, 403 for another
// project's object when the caller is not admin.
func readVisible[T any](a *API, ctx context.Context, res, id string, get func(context.Context, string) (T, error), project func(T) string) (T, *fault.Error) {
	if ferr := a.catchUp(ctx); ferr != nil {
		var zero T
		return zero, ferr
	}
	v, err := get(ctx, id)
	if err != nil {
		return v, a.readError(ctx, err, fault.NotFound(res, id))
	}
	return v, a.visible(ctx, project(v))
}

// getOne answers GET /<resources>/{id} as {"<key>": {...}} with ?fields.
func getOne[T any](a *API, w http.ResponseWriter, r *http.Request, key string, read func(context.Context, string) (T, *fault.Error)) {
	v, ferr := read(r.Context(), chi.URLParam(r, "id"))
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	a.writeOne(w, r, http.StatusOK, key, v, fieldsParam(r))
}
