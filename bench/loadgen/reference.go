package main

// Real Octavia 11's figures, copied from the project's facts file
// (shared/reference/octavia-facts.md, "Speed of real Octavia here"): noop
// drivers, one uWSGI process × 32 threads, one worker, MariaDB, RabbitMQ,
// on a 2-core machine like this one. They were measured elsewhere, not in
// this run, so they are printed as a reference ratio, never as a baseline.
const (
	octaviaCreateActiveP50Ms = 1060.0 // POST LB → ACTIVE median (20 in sequence)
	octaviaCreateActiveP95Ms = 1660.0
	octaviaList100P50Ms      = 51.0 // GET list of 100 LBs, sequential
	octaviaList100SeqRPS     = 17.0
	octaviaList100ConcRPS    = 13.0 // 8 concurrent
	octaviaCreatesAcceptedPS = 33.0 // 200 creates at concurrency 8
	octaviaAllActiveLBPerSec = 2.2  // …all ACTIVE after 91 s
	octaviaGetOneConcRPS     = 58.0 // GET one LB, 8 concurrent
)
