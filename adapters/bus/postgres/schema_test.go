package postgres

import (
	"errors"
	"strings"
	"testing"

	wmsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

func TestInsertQueryCopiesEachMessageToEveryGroup(t *testing.T) {
	m1, m2 := message.NewMessage("a", []byte("1")), message.NewMessage("b", []byte("2"))
	m1.Metadata.Set("type", "t")
	q, err := schema{}.InsertQuery(wmsql.InsertQueryParams{Topic: "x.y", Msgs: message.Messages{m1, m2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Args) != 8 || q.Args[1] != "a" || q.Args[5] != "b" || string(q.Args[3].([]byte)) != `{"type":"t"}` {
		t.Fatalf("args = %v", q.Args)
	}
	for _, want := range []string{`INSERT INTO "wmq_x.y"`, `FROM "wmq_groups_x.y" g CROSS JOIN`, `$8::json`} {
		if !strings.Contains(q.Query, want) {
			t.Fatalf("query lacks %q:\n%s", want, q.Query)
		}
	}
	if empty, _ := (schema{}).InsertQuery(wmsql.InsertQueryParams{Topic: "x"}); empty.Query == "" {
		t.Fatal("an empty publish must still be a valid statement")
	}
}

func TestSelectQueryNeedsAGroup(t *testing.T) {
	if _, err := (schema{}).SelectQuery(wmsql.SelectQueryParams{Topic: "x"}); err == nil {
		t.Fatal("SelectQuery without a consumer group succeeded")
	}
	q, err := schema{}.SelectQuery(wmsql.SelectQueryParams{Topic: "x", ConsumerGroup: "g"})
	if err != nil || !strings.Contains(q.Query, "FOR UPDATE SKIP LOCKED") || q.Args[0] != "g" {
		t.Fatalf("SelectQuery = %q %v, %v", q.Query, q.Args, err)
	}
}

// row scans fixed values.
type row struct {
	id       int64
	uuid     string
	payload  []byte
	metadata []byte
	err      error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	*dest[0].(*int64), *dest[1].(*string), *dest[2].(*[]byte), *dest[3].(*[]byte) = r.id, r.uuid, r.payload, r.metadata
	return nil
}

func TestUnmarshalMessageToleratesBadMetadata(t *testing.T) {
	for _, md := range [][]byte{nil, []byte(`not json`), []byte(`null`), []byte(`{"type":"t"}`)} {
		r, err := schema{}.UnmarshalMessage(wmsql.UnmarshalMessageParams{Row: row{id: 7, uuid: "u", payload: []byte("p"), metadata: md}})
		if err != nil {
			t.Fatalf("metadata %q: %v", md, err)
		}
		if r.Offset != 7 || r.Msg.UUID != "u" || string(r.Msg.Payload) != "p" || r.Msg.Metadata == nil {
			t.Fatalf("metadata %q: row %+v message %+v", md, r, r.Msg)
		}
		if string(md) == `{"type":"t"}` && r.Msg.Metadata.Get("type") != "t" {
			t.Fatalf("metadata lost: %v", r.Msg.Metadata)
		}
	}
	if _, err := (schema{}).UnmarshalMessage(wmsql.UnmarshalMessageParams{Row: row{err: errors.New("conn reset")}}); err == nil {
		t.Fatal("a scan error was swallowed")
	}
}

func TestTableNamesAreQuoted(t *testing.T) {
	if got := QueueTables(`a"b`); got[0] != `"wmq_a""b"` || got[1] != `"wmq_groups_a""b"` {
		t.Fatalf("QueueTables = %v", got)
	}
}
