package main

import (
	"runtime/metrics"
	"slices"
	"time"
)

// The runtime/metrics read by the sampler.
//
// "Heap in use" is /memory/classes/heap/objects:bytes: the bytes of heap
// objects, live or dead but not yet swept, i.e. what the heap holds at
// that instant, updated continuously. That is the memory a server
// actually occupies under load (what its heap limit and the OOM killer
// see), and its peak moves with each library's allocation rate as well as
// with what it retains. /gc/heap/live:bytes (the live heap as marked by
// the last GC) is also recorded, as "peak live heap": it leaves out the
// garbage awaiting sweep, so it reflects what requests in flight retain,
// but it only changes once per GC cycle, and in a short run with few
// cycles it can miss the moment the most requests were in flight.
//
// At several thousand requests/s a GC cycle lasts 10-20ms, about the
// default sampling period: a sample can miss the top of one cycle, but a
// run spans about a hundred cycles, and the peak over them comes close to
// the true one (-sample 1ms gave peaks a few per cent higher, within the
// rounds' spread).
const (
	metricHeapInUse = "/memory/classes/heap/objects:bytes"
	metricHeapLive  = "/gc/heap/live:bytes"
	metricAllocs    = "/gc/heap/allocs:bytes"
	metricGCs       = "/gc/cycles/total:gc-cycles"
)

// Sample is one reading of the heap in use, at T since the run started.
type Sample struct {
	T    time.Duration
	Heap uint64
}

// Sampler reads runtime/metrics periodically in a goroutine of its own.
type Sampler struct {
	every   time.Duration
	samples []metrics.Sample
	start   time.Time
	stop    chan struct{}
	done    chan struct{}

	// Set by the goroutine; read after Stop.
	series             []Sample
	peakHeap, peakLive uint64
	allocs0, gcs0      uint64
	allocs, gcs        uint64 // differences from the start
}

// StartSampler takes a first reading and starts sampling every period.
func StartSampler(every time.Duration) *Sampler {
	s := &Sampler{
		every: every,
		samples: []metrics.Sample{
			{Name: metricHeapInUse}, {Name: metricHeapLive}, {Name: metricAllocs}, {Name: metricGCs},
		},
		series: make([]Sample, 0, 256),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.start = time.Now()
	s.read()
	s.allocs0, s.gcs0 = s.samples[2].Value.Uint64(), s.samples[3].Value.Uint64()
	go s.loop()
	return s
}

func (s *Sampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.read()
		case <-s.stop:
			s.read()
			return
		}
	}
}

// read takes one reading (metrics.Read allocates nothing for these).
func (s *Sampler) read() {
	metrics.Read(s.samples)
	heap, live := s.samples[0].Value.Uint64(), s.samples[1].Value.Uint64()
	s.peakHeap, s.peakLive = max(s.peakHeap, heap), max(s.peakLive, live)
	s.allocs = s.samples[2].Value.Uint64() - s.allocs0
	s.gcs = s.samples[3].Value.Uint64() - s.gcs0
	s.series = append(s.series, Sample{T: time.Since(s.start), Heap: heap})
}

// Stop takes a last reading and ends the sampling. The series is then
// trimmed to its length: the report keeps every run's series, and spare
// capacity would raise the heap of the runs that follow.
func (s *Sampler) Stop() {
	close(s.stop)
	<-s.done
	s.series = slices.Clip(s.series)
}
