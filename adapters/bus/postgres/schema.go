package postgres

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	wmsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Table names of a topic: one row per (message, group) still to handle,
// and the groups a publish copies a message to.
func queueTable(topic string) string  { return quoteIdent("wmq_" + topic) }
func groupsTable(topic string) string { return quoteIdent("wmq_groups_" + topic) }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// QueueTables lists the tables of topic (for operators and test cleanup).
func QueueTables(topic string) []string { return []string{queueTable(topic), groupsTable(topic)} }

// schemaLockKey serialises DDL across processes (CREATE TABLE IF NOT
// EXISTS races on pg_type otherwise).
func schemaLockKey(topic string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("octavia-es bus schema " + topic))
	return int64(h.Sum64() >> 1)
}

func schemaQueries(topic string) []wmsql.Query {
	return []wmsql.Query{
		{Query: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, schemaLockKey(topic))},
		{Query: `CREATE TABLE IF NOT EXISTS ` + groupsTable(topic) + ` (
			consumer_group TEXT PRIMARY KEY
		)`},
		{Query: `CREATE TABLE IF NOT EXISTS ` + queueTable(topic) + ` (
			id             BIGSERIAL PRIMARY KEY,
			consumer_group TEXT NOT NULL,
			uuid           TEXT NOT NULL,
			payload        BYTEA NOT NULL,
			metadata       JSON,
			created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
		)`},
		{Query: `CREATE INDEX IF NOT EXISTS ` + quoteIdent("wmq_"+topic+"_group") + ` ON ` + queueTable(topic) + ` (consumer_group, id)`},
	}
}

// schema is a watermill-sql SchemaAdapter for a durable queue per consumer
// group: a publish inserts one row per registered group; a subscriber
// takes the oldest row of its group that no other subscriber holds (FOR
// UPDATE SKIP LOCKED), keeps it locked while the handler runs, and deletes
// it on ack (offsets below). Order is not kept across subscribers.
type schema struct{}

var _ wmsql.SchemaAdapter = schema{}

func (schema) SchemaInitializingQueries(p wmsql.SchemaInitializingQueriesParams) ([]wmsql.Query, error) {
	return schemaQueries(p.Topic), nil
}

func (schema) RequiresTransaction() bool { return true }

func (schema) InsertQuery(p wmsql.InsertQueryParams) (wmsql.Query, error) {
	if len(p.Msgs) == 0 {
		return wmsql.Query{Query: `SELECT 1`}, nil
	}
	var values strings.Builder
	args := make([]any, 0, 3*len(p.Msgs))
	for i, msg := range p.Msgs {
		md, err := json.Marshal(msg.Metadata)
		if err != nil {
			return wmsql.Query{}, fmt.Errorf("metadata of %s: %w", msg.UUID, err)
		}
		if i > 0 {
			values.WriteString(",")
		}
		fmt.Fprintf(&values, "($%d::int, $%d::text, $%d::bytea, $%d::json)", 4*i+1, 4*i+2, 4*i+3, 4*i+4)
		args = append(args, i, msg.UUID, []byte(msg.Payload), md)
	}
	q := `INSERT INTO ` + queueTable(p.Topic) + ` (consumer_group, uuid, payload, metadata)
		SELECT g.consumer_group, v.uuid, v.payload, v.metadata
		FROM ` + groupsTable(p.Topic) + ` g CROSS JOIN (VALUES ` + values.String() + `) AS v(n, uuid, payload, metadata)
		ORDER BY v.n, g.consumer_group`
	return wmsql.Query{Query: q, Args: args}, nil
}

func (schema) SelectQuery(p wmsql.SelectQueryParams) (wmsql.Query, error) {
	if p.ConsumerGroup == "" {
		return wmsql.Query{}, fmt.Errorf("postgres bus: a consumer group is required")
	}
	q := `SELECT id, uuid, payload, metadata FROM ` + queueTable(p.Topic) + `
		WHERE consumer_group = $1
		ORDER BY id
		LIMIT 1
		FOR UPDATE SKIP LOCKED`
	return wmsql.Query{Query: q, Args: []any{p.ConsumerGroup}}, nil
}

// UnmarshalMessage never fails on a row's content: a row that cannot be
// decoded would be selected again forever. Bad metadata is dropped (the
// handler then drops the message, which deletes the row).
func (schema) UnmarshalMessage(p wmsql.UnmarshalMessageParams) (wmsql.Row, error) {
	var (
		r    wmsql.Row
		uuid string
	)
	if err := p.Row.Scan(&r.Offset, &uuid, &r.Payload, &r.Metadata); err != nil {
		return wmsql.Row{}, fmt.Errorf("scan queue row: %w", err)
	}
	r.UUID = []byte(uuid)
	msg := message.NewMessage(uuid, r.Payload)
	if len(r.Metadata) > 0 {
		var md message.Metadata
		if json.Unmarshal(r.Metadata, &md) == nil {
			msg.Metadata = md
		}
	}
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	r.Msg = msg
	return r, nil
}

// READ COMMITTED: SKIP LOCKED under REPEATABLE READ fails with
// serialization errors when a row it saw was deleted meanwhile.
func (schema) SubscribeIsolationLevel() sql.IsolationLevel { return sql.LevelReadCommitted }

// offsets is the OffsetsAdapter of schema: groups are registered before
// subscribing, an ack deletes the group's row.
type offsets struct{}

var _ wmsql.OffsetsAdapter = offsets{}

func (offsets) AckMessageQuery(p wmsql.AckMessageQueryParams) (wmsql.Query, error) {
	return wmsql.Query{
		Query: `DELETE FROM ` + queueTable(p.Topic) + ` WHERE id = $1 AND consumer_group = $2`,
		Args:  []any{p.LastRow.Offset, p.ConsumerGroup},
	}, nil
}

func (offsets) ConsumedMessageQuery(wmsql.ConsumedMessageQueryParams) (wmsql.Query, error) {
	return wmsql.Query{}, nil
}

func (offsets) NextOffsetQuery(wmsql.NextOffsetQueryParams) (wmsql.Query, error) {
	return wmsql.Query{}, nil
}

func (offsets) SchemaInitializingQueries(wmsql.OffsetsSchemaInitializingQueriesParams) ([]wmsql.Query, error) {
	return nil, nil
}

func (offsets) BeforeSubscribingQueries(p wmsql.BeforeSubscribingQueriesParams) ([]wmsql.Query, error) {
	return []wmsql.Query{registerGroup(p.Topic, p.ConsumerGroup)}, nil
}

func registerGroup(topic, group string) wmsql.Query {
	return wmsql.Query{
		Query: `INSERT INTO ` + groupsTable(topic) + ` (consumer_group) VALUES ($1) ON CONFLICT DO NOTHING`,
		Args:  []any{group},
	}
}
