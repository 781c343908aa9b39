package loadbalancer

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/events"
)

func TestMergePatch(t *testing.T) {
	cur := listenerSpec("l-1", "HTTP", 80)
	cur.Description = ptr("keep me")
	cur.DefaultPoolID = ptr("p-1")
	cur.InsertHeaders = map[string]string{"X-Forwarded-For": "true"}
	cur.Tags = []string{"a", "b"}

	cases := []struct {
		name  string
		patch Patch
		fixed []string
		want  func() events.Listener
		err   string
	}{
		{name: "empty patch keeps everything", patch: Patch{}, want: func() events.Listener { return cur }},
		{name: "absent keeps, present replaces", patch: patch(`{"name":"n","tags":["c"]}`), want: func() events.Listener {
			l := cur
			l.Name, l.Tags = ptr("n"), []string{"c"}
			return l
		}},
		{name: "null clears pointers, slices, maps and values", patch: patch(`{"description":null,"default_pool_id":null,"tags":null,"insert_headers":null,"connection_limit":null,"admin_state_up":null}`),
			want: func() events.Listener {
				l := cur
				l.Description, l.DefaultPoolID, l.Tags, l.InsertHeaders = nil, nil, nil, nil
				l.ConnectionLimit, l.AdminStateUp = 0, false
				return l
			}},
		{name: "maps are replaced, not merged", patch: patch(`{"insert_headers":{"X-Forwarded-Port":"true"}}`), want: func() events.Listener {
			l := cur
			l.InsertHeaders = map[string]string{"X-Forwarded-Port": "true"}
			return l
		}},
		{name: "fixed keys are ignored", patch: patch(`{"id":"x","protocol_port":81,"name":"n"}`), fixed: []string{"id", "protocol_port"},
			want: func() events.Listener {
				l := cur
				l.Name = ptr("n")
				return l
			}},
		{name: "empty raw value is null", patch: Patch{"description": nil}, want: func() events.Listener {
			l := cur
			l.Description = nil
			return l
		}},
		{name: "unknown keys are ignored", patch: patch(`{"bogus":1}`), want: func() events.Listener { return cur }},
		{name: "wrong type", patch: patch(`{"protocol_port":"eighty"}`),
			err: `Invalid input for field/attribute protocol_port. Value: '"eighty"'. Wrong type.`},
		{name: "broken JSON", patch: Patch{"name": []byte(`{`)}, err: "Invalid input: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mergePatch(cur, tc.patch, tc.fixed...)
			if tc.err != "" {
				var e *Error
				if !errors.As(err, &e) || e.Kind != Invalid || !strings.HasPrefix(e.Message, tc.err) {
					t.Fatalf("err = %v, want Invalid starting %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(); !reflect.DeepEqual(got, want) {
				t.Fatalf("merged:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	if cur.Tags[0] != "a" || *cur.Description != "keep me" {
		t.Fatalf("mergePatch modified its input")
	}
}

func TestPatchHelpers(t *testing.T) {
	p := patch(`{"s":"x","e":"","n":null,"l":[],"o":{"b":1,"a":2},"z":0,"t":true}`)
	if !p.has("n") || p.has("missing") || !p.isNull("n") || p.isNull("s") {
		t.Fatalf("has/isNull wrong")
	}
	if v, ok := p.str("s"); !ok || v != "x" {
		t.Fatalf("str(s) = %q %v", v, ok)
	}
	if _, ok := p.str("n"); ok {
		t.Fatalf("str(null) must not be ok")
	}
	truthy := map[string]bool{"s": true, "e": false, "n": false, "l": false, "o": true, "z": false, "t": true, "missing": false}
	for k, want := range truthy {
		if p.truthy(k) != want {
			t.Errorf("truthy(%s) = %v", k, !want)
		}
	}
	if got := p.objectKeys("o"); !reflect.DeepEqual(got, []string{"b", "a"}) {
		t.Fatalf("objectKeys = %v, want document order", got)
	}
	if got := pyList([]string{"a", "it's"}); got != `['a', "it's"]` {
		t.Fatalf("pyList = %s", got)
	}
	if pyFloat(1) != "1.0" || pyFloat(1.1) != "1.1" {
		t.Fatalf("pyFloat = %s %s", pyFloat(1), pyFloat(1.1))
	}
}
