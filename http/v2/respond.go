package v2

import (
	"encoding/json"
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
func writeList[T any](a *API, w http.ResponseWriter, r *http.Request, key string, q listQuery, items []T, id func(T) string) {
	out := make([]any, 0, len(items))
	for _, it := range items {
		obj, err := selectFields(it, q.fields)
		if err != nil {
			fault.Write(w, a.internal(r.Context(), "render response", err))
			return
		}
		out = append(out, obj)
	}
	var first, last string
	if len(items) > 0 {
		first, last = id(items[0]), id(items[len(items)-1])
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{
		key:            out,
		key + "_links": a.links(r, q, first, last, len(items)),
	})
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
