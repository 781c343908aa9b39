package main

// Result is everything one run measured; bench/out/*.json is this, encoded.
type Result struct {
	Started   string `json:"started"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version"`
	CPUs      int    `json:"cpus"`
	Server    string `json:"server"`
	Workers   int    `json:"workers"`

	Phases      []Phase        `json:"phases"`
	EventStore  EventStore     `json:"event_store"`
	Postgres    PostgresResult `json:"postgres"`
	Lag         LagResult      `json:"projection_lag"`
	PGList      PGList         `json:"postgres_list"`
	Amphorae    AmphoraResult  `json:"amphorae"`
	SSE         SSEResult      `json:"event_stream"`
	Replay      []ReplayRun    `json:"replay,omitempty"`
	Problems    []string       `json:"problems,omitempty"`
	DataBytes   int64          `json:"data_bytes,omitempty"` // data dir size at the end
	Reference   OctaviaRef     `json:"reference_octavia_11"`
	DurationSec float64        `json:"duration_s"`
}

// Phase is what was measured at one store size. The floor (GET /) is
// measured again in every phase, so each ratio uses a baseline taken minutes
// apart at most, on the same noisy machine.
type Phase struct {
	LBs          int          `json:"lbs"`    // load balancers in the store while measuring
	Target       int          `json:"target"` // what the phase aimed for
	FloorSeq     Summary      `json:"floor_seq"`
	FloorConc    Summary      `json:"floor_conc"`
	Create       *MassCreate  `json:"create,omitempty"` // how the store was filled to LBs
	CreateActive *Summary     `json:"create_to_active,omitempty"`
	GetOneConc   *Summary     `json:"get_one_conc,omitempty"`
	Lists        []ListResult `json:"lists,omitempty"`
}

// ListResult is one list query at one store size.
type ListResult struct {
	Variant   string   `json:"variant"`
	PageItems int      `json:"page_items"` // load balancers in one answer
	Seq       Summary  `json:"seq"`
	Conc      *Summary `json:"conc,omitempty"`
}

// EventStore is the event store package's benchmarks and the plain-INSERT
// baseline run with the same payload and rows per transaction.
type EventStore struct {
	Results      []GoBench `json:"results"`  // every benchmark of the package
	Baseline     []GoBench `json:"baseline"` // BenchmarkPlainInsert/rows=N
	Pairs        []Pair    `json:"pairs"`    // which baseline each append is compared with
	PayloadBytes int       `json:"payload_bytes"`
	Matched      string    `json:"matched"` // how payload and batch were inferred
	Error        string    `json:"error,omitempty"`
}

// Pair ties an append benchmark to its baseline.
type Pair struct {
	Append    string `json:"append"`
	Baseline  string `json:"baseline"`
	RowsPerTx int    `json:"rows_per_tx"`
}

// OctaviaRef is reference.go's constants, recorded with each result.
type OctaviaRef struct {
	Source              string  `json:"source"`
	CreateActiveP50Ms   float64 `json:"create_to_active_p50_ms"`
	CreateActiveP95Ms   float64 `json:"create_to_active_p95_ms"`
	List100P50Ms        float64 `json:"list_100_p50_ms"`
	List100SeqRPS       float64 `json:"list_100_seq_req_per_s"`
	List100ConcRPS      float64 `json:"list_100_conc8_req_per_s"`
	CreatesAcceptedPerS float64 `json:"creates_accepted_per_s"`
	AllActiveLBPerS     float64 `json:"all_active_lb_per_s"`
	GetOneConcRPS       float64 `json:"get_one_conc8_req_per_s"`
}

func octaviaRef() OctaviaRef {
	return OctaviaRef{
		Source:              "shared/reference/octavia-facts.md: noop drivers, MariaDB, RabbitMQ, a 2-core machine like this",
		CreateActiveP50Ms:   octaviaCreateActiveP50Ms,
		CreateActiveP95Ms:   octaviaCreateActiveP95Ms,
		List100P50Ms:        octaviaList100P50Ms,
		List100SeqRPS:       octaviaList100SeqRPS,
		List100ConcRPS:      octaviaList100ConcRPS,
		CreatesAcceptedPerS: octaviaCreatesAcceptedPS,
		AllActiveLBPerS:     octaviaAllActiveLBPerSec,
		GetOneConcRPS:       octaviaGetOneConcRPS,
	}
}
