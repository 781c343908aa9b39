package v2

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections"
)

// Octavia's list parameters (api/common/pagination.py PaginationHelper).
// limit and sort errors are raised by a pecan hook before wsme runs, so
// they answer in pecan's {code,title,description} shape; filters, sort keys
// and markers are checked by the read model and answer in wsme's shape.

// auxiliaryParams are not filters.
var auxiliaryParams = []string{"limit", "marker", "sort", "sort_key", "sort_dir", "fields", "page_reverse"}

var tagParams = []string{"tags", "tags-any", "not-tags", "not-tags-any"}

// listQuery is a parsed list request.
type listQuery struct {
	opts   projections.ListOptions
	fields []string // nil: every attribute
	// link parameters Octavia carries into next/previous links
	rawSort, rawSortKey string
}

// parseList reads r's list parameters. Every caller of noauth is admin and
// sees every project unless ?project_id= narrows it; a caller that is not
// admin sees its own project only.
func (a *API) parseList(r *http.Request) (listQuery, *fault.Error) {
	params, _ := url.ParseQuery(r.URL.RawQuery)
	last := func(k string) (string, bool) {
		vs, ok := params[k]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[len(vs)-1], true
	}
	var q listQuery
	q.opts.Marker, _ = last("marker")

	limit := a.cfg.PaginationMaxLimit
	if raw, ok := last("limit"); ok {
		n, err := parseLimit(raw)
		if err != nil {
			return q, fault.NewPecan(http.StatusBadRequest, "Supplied pagination limit '%s' is not valid.", raw)
		}
		// limit=0 (and Octavia's "infinite") means no limit to Octavia, which
		// then fails building links; here it is the default page.
		if n > 0 && n < limit {
			limit = n
		}
	}
	q.opts.Limit = limit

	sort, ferr := parseSort(params)
	if ferr != nil {
		return q, ferr
	}
	q.opts.Sort = sort
	q.rawSort, _ = last("sort")
	q.rawSortKey, _ = last("sort_key")
	pr, _ := last("page_reverse")
	q.opts.PageReverse = pr == "True" // Octavia compares with the string "True"

	if vs, ok := params["fields"]; ok {
		q.fields = append([]string{}, vs...)
	}
	q.opts.Tags = splitTags(params["tags"])
	q.opts.TagsAny = splitTags(params["tags-any"])
	q.opts.NotTags = splitTags(params["not-tags"])
	q.opts.NotTagsAny = splitTags(params["not-tags-any"])

	id := identity(r.Context())
	if pid, ok := last("project_id"); ok {
		if !id.IsAdmin && pid != id.ProjectID {
			return q, forbidden()
		}
		q.opts.ProjectID = pid
	} else if !id.IsAdmin {
		q.opts.ProjectID = id.ProjectID
	}
	for k, vs := range params {
		if contains(auxiliaryParams, k) || contains(tagParams, k) || k == "project_id" {
			continue
		}
		if q.opts.Filters == nil {
			q.opts.Filters = map[string][]string{}
		}
		q.opts.Filters[k] = vs
	}
	return q, nil
}

func forbidden() *fault.Error {
	return fault.New(http.StatusForbidden, "Policy does not allow this request to be performed.")
}

// parseLimit is Python's int() on the parameter; "infinite" is 0.
func parseLimit(raw string) (int, error) {
	if raw == "infinite" {
		return 0, nil
	}
	n, ok := parsePyIntLiteral(strings.TrimFunc(raw, pyIsSpace))
	if !ok || n.Sign() < 0 {
		return 0, fmt.Errorf("invalid limit %q", raw)
	}
	if !n.IsInt64() || n.Int64() > 1<<31 {
		return 1 << 31, nil
	}
	return int(n.Int64()), nil
}

// parseSort reads sort=key[:dir],... or sort_key=k1,k2&sort_dir=d1,d2 and
// appends Octavia's default keys (created_at, id; ascending).
func parseSort(params url.Values) ([]projections.SortKey, *fault.Error) {
	get := func(k string) string {
		vs := params[k]
		if len(vs) == 0 {
			return ""
		}
		return vs[len(vs)-1]
	}
	var keys []projections.SortKey
	if sort := get("sort"); sort != "" {
		for _, part := range strings.Split(sort, ",") {
			comps := strings.Split(part, ":")
			switch len(comps) {
			case 1:
				keys = append(keys, projections.SortKey{Key: comps[0]})
			case 2:
				desc, err := sortDir(comps[1])
				if err != nil {
					return nil, err
				}
				keys = append(keys, projections.SortKey{Key: comps[0], Desc: desc})
			default:
				return nil, fault.NewPecan(http.StatusBadRequest, "Supplied sort key '%s' is not valid.", pyRepr(stringsToAny(comps)))
			}
		}
	} else if sk := get("sort_key"); sk != "" {
		names := strings.Split(sk, ",")
		var dirs []string
		if sd := get("sort_dir"); sd != "" {
			dirs = strings.Split(sd, ",")
		}
		for i, name := range names {
			desc := false
			if i < len(dirs) {
				d, err := sortDir(dirs[i])
				if err != nil {
					return nil, err
				}
				desc = d
			}
			keys = append(keys, projections.SortKey{Key: name, Desc: desc})
		}
	}
	for _, def := range []string{"created_at", "id"} {
		found := false
		for _, k := range keys {
			found = found || k.Key == def
		}
		if !found {
			keys = append(keys, projections.SortKey{Key: def})
		}
	}
	return keys, nil
}

func sortDir(d string) (desc bool, err *fault.Error) {
	switch l := strings.ToLower(d); l {
	case "asc":
		return false, nil
	case "desc":
		return true, nil
	default:
		return false, fault.NewPecan(http.StatusBadRequest, "Supplied sort direction '%s' is not valid.", l)
	}
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// splitTags flattens comma separated tag lists.
func splitTags(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

// link is one of Octavia's <resource>_links entries.
type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// links builds Octavia's pagination links (_make_links): only limit, sort
// and sort_key are carried; "previous" when the request had a marker,
// "next" when the page is full.
func (a *API) links(r *http.Request, q listQuery, firstID, lastID string, n int) []link {
	out := []link{}
	if n == 0 {
		return out
	}
	base := a.pathURL(r)
	attrs := []string{"limit=" + strconv.Itoa(q.opts.Limit)}
	if q.rawSort != "" {
		attrs = append(attrs, "sort="+q.rawSort)
	}
	if q.rawSortKey != "" {
		attrs = append(attrs, "sort_key="+q.rawSortKey)
	}
	if q.opts.Marker != "" {
		prev := append(append([]string{}, attrs...), "marker="+firstID, "page_reverse=True")
		out = append(out, link{Href: base + "?" + strings.Join(prev, "&"), Rel: "previous"})
	}
	if n >= q.opts.Limit {
		next := append(append([]string{}, attrs...), "marker="+lastID)
		out = append(out, link{Href: base + "?" + strings.Join(next, "&"), Rel: "next"})
	}
	return out
}

// pathURL is the request URL without its query, or api_base_uri + path.
func (a *API) pathURL(r *http.Request) string {
	if a.cfg.APIBaseURI != "" {
		return strings.TrimRight(a.cfg.APIBaseURI, "/") + r.URL.EscapedPath()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}
