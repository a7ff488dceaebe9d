// hog.go - the hog workload of gort's bench (bench/README.md, "hog") in Go's own runtime, built
// natively and for GOOS=js GOARCH=wasm by bench/lib/goref.mjs.
//
// A goroutine busy-loops hogMs; the main goroutine plays the page: each phase starts at a planned
// moment, planMs after the hog started, and is timed from that moment. Natively Go preempts the
// hog (and has a second P); in the wasm port there is one thread and no preemption, so main runs
// only once the hog is done. Output: one JSON line per metric, as bench.go; round N >= 2 suffixed
// "@rN". Flags: -only=hog (anything else: nothing printed), -rounds=N.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"
)

const (
	hogMs  = 3000
	planMs = 10
)

var suffix string

func emit(name string, value float64, unit string) {
	b, _ := json.Marshal(map[string]interface{}{"name": "hog." + name + suffix, "value": value, "unit": unit})
	fmt.Println(string(b))
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func pct(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p / 100 * float64(len(s)))
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

type start struct {
	at time.Time
}

// hog starts a goroutine (queued on its own P) that reports when it runs, says it started, and
// spins for hogMs.
func hog(started chan<- start, probe chan<- time.Time, done chan<- struct{}) {
	go func() { probe <- time.Now() }()
	t0 := time.Now()
	started <- start{t0}
	for time.Since(t0) < hogMs*time.Millisecond {
	}
	done <- struct{}{}
}

// withHog runs phase at the planned moment of a fresh hog, then waits for the hog to end.
func withHog(phase func(planned time.Time, s start, probe <-chan time.Time)) {
	started := make(chan start, 1)
	probe := make(chan time.Time, 1)
	done := make(chan struct{}, 1)
	go hog(started, probe, done)
	s := <-started
	planned := s.at.Add(planMs * time.Millisecond)
	time.Sleep(time.Until(planned))
	phase(planned, s, probe)
	<-done
}

func round() {
	withHog(func(planned time.Time, s start, probe <-chan time.Time) {
		const n = 200
		dones := make([]chan int, n)
		for i := range dones {
			dones[i] = make(chan int, 1)
			go func(i int) { dones[i] <- i + 1 }(i)
		}
		times := make([]float64, n)
		for i, d := range dones {
			<-d
			times[i] = ms(time.Since(planned))
		}
		emit("join_p50", pct(times, 50), "ms")
		emit("join_p99", pct(times, 99), "ms")
		emit("handoff", ms((<-probe).Sub(s.at)), "ms")
	})
	withHog(func(planned time.Time, _ start, _ <-chan time.Time) {
		runtime.GC()
		emit("gc_wall", ms(time.Since(planned)), "ms")
	})
	withHog(func(planned time.Time, _ start, _ <-chan time.Time) {
		const n = 100
		late := make(chan float64, n)
		for i := 0; i < n; i++ {
			go func() {
				time.Sleep(10 * time.Millisecond)
				late <- ms(time.Since(planned)) - 10
			}()
		}
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = <-late
		}
		emit("timer_p99", pct(xs, 99), "ms")
	})
}

func main() {
	only := flag.String("only", "hog", "workloads (only hog)")
	rounds := flag.Int("rounds", 1, "rounds in this process")
	flag.Parse()
	if !strings.Contains(","+*only+",", ",hog,") {
		return
	}
	for r := 1; r <= *rounds; r++ {
		suffix = ""
		if r > 1 {
			suffix = fmt.Sprintf("@r%d", r)
		}
		round()
	}
	b, _ := json.Marshal(map[string]interface{}{"name": "done", "value": 0, "unit": ""})
	fmt.Println(string(b))
}
