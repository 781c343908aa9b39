package eventstoredb

import (
	"errors"
	"reflect"
	"regexp"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

func TestNamingServerAndOurs(t *testing.T) {
	cases := []struct {
		names   naming
		stream  string
		server  string
		wantErr bool
	}{
		{naming{prefix: "loadbalancer-"}, "loadbalancer-1", "loadbalancer-1", false},
		{naming{namespace: "prod-", prefix: "loadbalancer-"}, "loadbalancer-1", "prod-loadbalancer-1", false},
		{naming{namespace: "t-"}, "anything", "t-anything", false},
		{naming{}, "a", "a", false},
		{naming{prefix: "loadbalancer-"}, "pool-1", "", true},
		{naming{prefix: "loadbalancer-"}, "", "", true},
		{naming{}, "$all", "", true},
		{naming{}, "$$loadbalancer-1", "", true},
	}
	for _, c := range cases {
		got, err := c.names.server(c.stream)
		if (err != nil) != c.wantErr || got != c.server {
			t.Errorf("%+v.server(%q) = %q, %v; want %q, error %v", c.names, c.stream, got, err, c.server, c.wantErr)
			continue
		}
		if err != nil {
			if !errors.Is(err, errStreamName) {
				t.Errorf("%+v.server(%q): error %v is not errStreamName", c.names, c.stream, err)
			}
			continue
		}
		if back, ok := c.names.ours(got); !ok || back != c.stream {
			t.Errorf("%+v.ours(%q) = %q, %v; want %q back", c.names, got, back, ok, c.stream)
		}
	}
}

func TestNamingOursRefusesOthers(t *testing.T) {
	n := naming{namespace: "prod-", prefix: "loadbalancer-"}
	for _, s := range []string{"loadbalancer-1", "test-loadbalancer-1", "prod-pool-1", "$ce-loadbalancer", "$$prod-loadbalancer-1", ""} {
		if got, ok := n.ours(s); ok {
			t.Errorf("ours(%q) = %q, true; want not the store's", s, got)
		}
	}
}

func TestNamingValidate(t *testing.T) {
	cases := []struct {
		names naming
		ok    bool
	}{
		{naming{prefix: "loadbalancer-"}, true},
		{naming{}, true},
		{naming{namespace: "$sys-"}, false},
		{naming{prefix: "$"}, false},
	}
	for _, c := range cases {
		if err := c.names.validate(); (err == nil) != c.ok {
			t.Errorf("%+v.validate() = %v, want ok %v", c.names, err, c.ok)
		}
	}
}

func TestNamingFilter(t *testing.T) {
	cases := []struct {
		names naming
		want  *esdb.SubscriptionFilter
	}{
		{naming{prefix: "loadbalancer-"}, &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"loadbalancer-"}}},
		{naming{namespace: "t1-"}, &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"t1-"}}},
		{naming{namespace: "t1-", prefix: "lb-"}, &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"t1-lb-"}}},
		{naming{}, &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^[^$]`}},
	}
	for _, c := range cases {
		if got := c.names.filter(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v.filter() = %+v, want %+v", c.names, got, c.want)
		}
	}
	// The regex of the prefix-less filter (the same in .NET): every stream
	// but the system ones.
	re := regexp.MustCompile(naming{}.filter().Regex)
	for s, want := range map[string]bool{"a": true, "loadbalancer-1": true, "$all": false, "$$a": false, "$ce-x": false} {
		if re.MatchString(s) != want {
			t.Errorf("filter regex on %q = %v, want %v", s, !want, want)
		}
	}
}
