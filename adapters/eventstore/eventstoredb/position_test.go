package eventstoredb

import (
	"math"
	"reflect"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

func TestPositionOf(t *testing.T) {
	cases := []struct {
		name    string
		in      esdb.Position
		want    int64
		wantErr bool
	}{
		{"self-committed event", esdb.Position{Commit: 4711, Prepare: 4711}, 4711, false},
		{"commit unknown (stream read, older server)", esdb.Position{Commit: unknownPosition, Prepare: 4711}, 4711, false},
		{"largest", esdb.Position{Commit: math.MaxInt64, Prepare: math.MaxInt64}, math.MaxInt64, false},
		{"explicit transaction", esdb.Position{Commit: 5000, Prepare: 4711}, 0, true},
		{"nothing known", esdb.Position{Commit: unknownPosition, Prepare: unknownPosition}, 0, true},
		{"zero", esdb.Position{}, 0, true},
		{"beyond int64", esdb.Position{Commit: math.MaxInt64 + 1, Prepare: math.MaxInt64 + 1}, 0, true},
	}
	for _, c := range cases {
		got, err := positionOf(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("%s: positionOf(%+v) = %d, %v; want %d, error %v", c.name, c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestAllFrom(t *testing.T) {
	cases := []struct {
		after int64
		want  esdb.AllPosition
	}{
		{0, esdb.Start{}},
		{-7, esdb.Start{}},
		{4711, esdb.Position{Commit: 4711, Prepare: 4711}},
	}
	for _, c := range cases {
		if got := allFrom(c.after); !reflect.DeepEqual(got, c.want) {
			t.Errorf("allFrom(%d) = %#v, want %#v", c.after, got, c.want)
		}
	}
}

func TestExpectedRevision(t *testing.T) {
	cases := []struct {
		version int64
		want    esdb.ExpectedRevision
		wantErr bool
	}{
		{eventstore.ExpectAny, esdb.Any{}, false},
		{eventstore.ExpectNoStream, esdb.NoStream{}, false},
		{1, esdb.Revision(0), false},
		{5, esdb.Revision(4), false},
		{math.MaxInt64, esdb.Revision(math.MaxInt64 - 1), false},
		{-2, nil, true},
		{math.MinInt64, nil, true},
	}
	for _, c := range cases {
		got, err := expectedRevision(c.version)
		if (err != nil) != c.wantErr || !reflect.DeepEqual(got, c.want) {
			t.Errorf("expectedRevision(%d) = %#v, %v; want %#v, error %v", c.version, got, err, c.want, c.wantErr)
		}
	}
}

func TestVersionOfAndRevisionAfter(t *testing.T) {
	versions := []struct {
		rev     uint64
		want    int64
		wantErr bool
	}{
		{0, 1, false},
		{41, 42, false},
		{math.MaxInt64 - 1, math.MaxInt64, false},
		{math.MaxInt64, 0, true},
		{math.MaxUint64, 0, true},
	}
	for _, c := range versions {
		got, err := versionOf(c.rev)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("versionOf(%d) = %d, %v; want %d, error %v", c.rev, got, err, c.want, c.wantErr)
		}
	}
	afters := []struct {
		after int64
		want  uint64
	}{{-3, 0}, {0, 0}, {7, 7}}
	for _, c := range afters {
		if got := revisionAfter(c.after); got != c.want {
			t.Errorf("revisionAfter(%d) = %d, want %d", c.after, got, c.want)
		}
	}
}
