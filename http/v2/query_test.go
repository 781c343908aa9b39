package v2

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/http/auth"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections"
)

func listRequest(query string, id auth.Identity) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://octavia:9876/v2/lbaas/loadbalancers"+query, nil)
	return req.WithContext(auth.WithIdentity(req.Context(), id))
}

var admin = auth.Identity{ProjectID: "p1", IsAdmin: true}

func TestParseListOptions(t *testing.T) {
	a := &API{cfg: Config{PaginationMaxLimit: 1000}}
	tests := []struct {
		name  string
		query string
		id    auth.Identity
		want  projections.ListOptions
	}{
		{"defaults", "", admin, projections.ListOptions{Limit: 1000,
			Sort: []projections.SortKey{{Key: "created_at"}, {Key: "id"}}}},
		{"limit zero is the default page", "?limit=0", admin, projections.ListOptions{Limit: 1000,
			Sort: []projections.SortKey{{Key: "created_at"}, {Key: "id"}}}},
		{"limit bounded by the maximum", "?limit=5000", admin, projections.ListOptions{Limit: 1000,
			Sort: []projections.SortKey{{Key: "created_at"}, {Key: "id"}}}},
		{"sort with directions", "?limit=2&sort=name:DESC,id&marker=m&page_reverse=True", admin, projections.ListOptions{
			Limit: 2, Marker: "m", PageReverse: true,
			Sort: []projections.SortKey{{Key: "name", Desc: true}, {Key: "id"}, {Key: "created_at"}}}},
		{"page_reverse is case sensitive", "?page_reverse=true", admin, projections.ListOptions{Limit: 1000,
			Sort: []projections.SortKey{{Key: "created_at"}, {Key: "id"}}}},
		{"sort_key and sort_dir", "?sort_key=name,vip_address,created_at&sort_dir=desc", admin, projections.ListOptions{Limit: 1000,
			Sort: []projections.SortKey{{Key: "name", Desc: true}, {Key: "vip_address"}, {Key: "created_at"}, {Key: "id"}}}},
		{"filters, tags and project", "?name=a&name=b&tags=x,y&tags=z&not-tags-any=q&project_id=p9&fields=id", admin,
			projections.ListOptions{Limit: 1000, ProjectID: "p9",
				Filters: map[string][]string{"name": {"a", "b"}},
				Tags:    []string{"x", "y", "z"}, NotTagsAny: []string{"q"},
				Sort: []projections.SortKey{{Key: "created_at"}, {Key: "id"}}}},
		{"non admin sees its project", "", auth.Identity{ProjectID: "p2"}, projections.ListOptions{Limit: 1000, ProjectID: "p2",
			Sort: []projections.SortKey{{Key: "created_at"}, {Key: "id"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, ferr := a.parseList(listRequest(tt.query, tt.id))
			if ferr != nil {
				t.Fatalf("parseList: %v", ferr)
			}
			if !reflect.DeepEqual(q.opts, tt.want) {
				t.Errorf("options\n got %+v\nwant %+v", q.opts, tt.want)
			}
		})
	}
}

func TestParseListErrors(t *testing.T) {
	a := &API{cfg: Config{PaginationMaxLimit: 1000}}
	tests := []struct {
		query string
		want  string
		pecan bool
	}{
		{"?limit=abc", "Supplied pagination limit 'abc' is not valid.", true},
		{"?limit=-1", "Supplied pagination limit '-1' is not valid.", true},
		{"?limit=1.5", "Supplied pagination limit '1.5' is not valid.", true},
		{"?sort=name:up", "Supplied sort direction 'up' is not valid.", true},
		{"?sort_key=name&sort_dir=sideways", "Supplied sort direction 'sideways' is not valid.", true},
		{"?sort=a:b:c", "Supplied sort key '['a', 'b', 'c']' is not valid.", true},
		{"?project_id=other", "Policy does not allow this request to be performed.", false},
	}
	for _, tt := range tests {
		id := admin
		if !tt.pecan {
			id = auth.Identity{ProjectID: "mine"}
		}
		_, ferr := a.parseList(listRequest(tt.query, id))
		if ferr == nil || ferr.Message != tt.want || (ferr.Shape == fault.Pecan) != tt.pecan {
			t.Errorf("%s: got %+v, want %q (pecan %v)", tt.query, ferr, tt.want, tt.pecan)
		}
	}
}

func TestLinks(t *testing.T) {
	a := &API{cfg: Config{PaginationMaxLimit: 1000}}
	base := "http://octavia:9876/v2/lbaas/loadbalancers"
	tests := []struct {
		name  string
		query string
		n     int
		want  []link
	}{
		{"empty page", "?limit=2", 0, []link{}},
		{"partial first page", "?limit=2", 1, []link{}},
		{"full first page", "?limit=2&sort=name:asc&fields=id&name=x", 2, []link{
			{Href: base + "?limit=2&sort=name:asc&marker=last", Rel: "next"}}},
		{"middle page", "?limit=2&marker=m&sort_key=name", 2, []link{
			{Href: base + "?limit=2&sort_key=name&marker=first&page_reverse=True", Rel: "previous"},
			{Href: base + "?limit=2&sort_key=name&marker=last", Rel: "next"}}},
		{"default limit", "?marker=m", 1, []link{
			{Href: base + "?limit=1000&marker=first&page_reverse=True", Rel: "previous"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := listRequest(tt.query, admin)
			q, ferr := a.parseList(r)
			if ferr != nil {
				t.Fatal(ferr)
			}
			got := a.links(r, q, "first", "last", tt.n)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("links\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	a.cfg.APIBaseURI = "https://lb.example/"
	r := listRequest("?limit=1", admin)
	q, _ := a.parseList(r)
	if got := a.links(r, q, "f", "l", 1); len(got) != 1 || got[0].Href != "https://lb.example/v2/lbaas/loadbalancers?limit=1&marker=l" {
		t.Errorf("api_base_uri links: %+v", got)
	}
}
