// Package sqlitebaseline holds the baseline the event store's append rate
// is printed against: plain INSERTs of rows shaped like stored events into a
// table like the event store's, on the same driver with the same pragmas.
// Its only code is the benchmark in insert_test.go, run by bench/run.sh.
package sqlitebaseline
