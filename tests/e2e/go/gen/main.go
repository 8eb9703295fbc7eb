// Command gen writes real Go pprof profiles for Ember's integration tests, and the facts the
// tests check them against.
//
// It burns CPU in known functions (under pprof labels worker=alpha / worker=beta), allocates in
// known sites, and writes to -out:
//
//	cpu.pb.gz    runtime/pprof CPU profile (samples/count, cpu/nanoseconds; period cpu/nanoseconds)
//	heap1.pb.gz  heap profile after the first round of allocations
//	heap.pb.gz   heap profile after the second round (cumulative pair with heap1.pb.gz)
//	summary.json per file: sample types, period type, per sample type the sum of values, the
//	             same sums split by string sample label and by (inclusive) main.* function, and
//	             for the pair heap.pb.gz − heap1.pb.gz the per-type sum of per-stack deltas.
//
// The sums are computed here by reading the written files back with a minimal protobuf reader
// (stdlib only), independently of Ember. `gen -summarize FILE...` prints the summary of any
// pprof files (gzipped or not) instead.
//
// Build offline: GOPROXY=off go build -o gen . (Debian golang-go 1.19, no dependencies).
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"
)

// Every allocation is recorded exactly (no sampling, no scaling of heap values).
func init() { runtime.MemProfileRate = 1 }

var sink [][]byte
var burnSink uint64

//go:noinline
func spin(d time.Duration) uint64 {
	x := uint64(1)
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 20000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

//go:noinline
func burnAlpha(d time.Duration) uint64 { return spin(d) ^ 0xa }

//go:noinline
func burnBeta(d time.Duration) uint64 { return spin(d) ^ 0xb }

//go:noinline
func allocSmall(n int) {
	for i := 0; i < n; i++ {
		sink = append(sink, make([]byte, 64))
	}
}

//go:noinline
func allocLarge(n int) {
	for i := 0; i < n; i++ {
		sink = append(sink, make([]byte, 64<<10))
	}
}

//go:noinline
func allocTemp(n int) int {
	total := 0
	for i := 0; i < n; i++ {
		b := make([]byte, 4096)
		total += len(b)
	}
	return total
}

func writeHeap(path string) error {
	runtime.GC()
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cpuProfile writes the CPU profile of running work to path.
func cpuProfile(path string, work func()) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	work()
	pprof.StopCPUProfile()
	return f.Close()
}

// labelled runs fn under the pprof label key=value.
func labelled(key, value string, fn func()) {
	pprof.Do(context.Background(), pprof.Labels(key, value), func(context.Context) { fn() })
}

func writeCPU(path string, d time.Duration) error {
	return cpuProfile(path, func() {
		labelled("worker", "alpha", func() { burnSink += burnAlpha(d) })
		labelled("worker", "beta", func() { burnSink += burnBeta(d / 2) })
		burnSink += spin(d / 4) // unlabeled samples
	})
}

// Span ids as OpenTelemetry's profiling integration (otel-profiling-go) attaches them: a
// pprof label span_id of 16 hex digits on the samples taken while the span runs.
const spanA, spanB = "0123456789abcdef", "00f067aa0ba902b7"

func writeSpans(path string, d time.Duration) error {
	return cpuProfile(path, func() {
		labelled("span_id", spanA, func() { burnSink += burnAlpha(d) })
		labelled("span_id", spanB, func() { burnSink += burnBeta(d / 2) })
		burnSink += spin(d / 2) // outside any span
	})
}

// ---- minimal protobuf reader -------------------------------------------------------------

type reader struct {
	b []byte
	i int
}

var errTrunc = errors.New("truncated protobuf")

func (r *reader) done() bool { return r.i >= len(r.b) }

func (r *reader) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.i >= len(r.b) {
			return 0, errTrunc
		}
		c := r.b[r.i]
		r.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint too long")
}

// next returns the field number, wire type, and for wire type 2 the payload; for 0 the value.
func (r *reader) next() (num int, wt int, val uint64, data []byte, err error) {
	key, err := r.varint()
	if err != nil {
		return
	}
	num, wt = int(key>>3), int(key&7)
	switch wt {
	case 0:
		val, err = r.varint()
	case 1:
		if r.i+8 > len(r.b) {
			err = errTrunc
			return
		}
		r.i += 8
	case 5:
		if r.i+4 > len(r.b) {
			err = errTrunc
			return
		}
		r.i += 4
	case 2:
		var n uint64
		if n, err = r.varint(); err != nil {
			return
		}
		if n > uint64(len(r.b)-r.i) {
			err = errTrunc
			return
		}
		data = r.b[r.i : r.i+int(n)]
		r.i += int(n)
	default:
		err = fmt.Errorf("bad wire type %d", wt)
	}
	return
}

// repeated scalar, packed (wt 2) or not (wt 0)
func appendScalars(dst []uint64, wt int, val uint64, data []byte) ([]uint64, error) {
	if wt == 0 {
		return append(dst, val), nil
	}
	if wt != 2 {
		return dst, fmt.Errorf("bad wire type %d for scalar", wt)
	}
	p := reader{b: data}
	for !p.done() {
		v, err := p.varint()
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
	}
	return dst, nil
}

type valueType struct{ typ, unit int64 }

type label struct{ key, str int64 }

type sample struct {
	locs   []uint64
	values []int64
	labels []label
}

type profile struct {
	sampleTypes []valueType
	periodType  valueType
	samples     []sample
	locFuncs    map[uint64][]uint64 // location id -> function ids (line order: inlined callee first)
	funcNames   map[uint64]int64    // function id -> name string index
	strs        []string
}

func parseValueType(b []byte) (valueType, error) {
	var vt valueType
	r := reader{b: b}
	for !r.done() {
		num, _, val, _, err := r.next()
		if err != nil {
			return vt, err
		}
		switch num {
		case 1:
			vt.typ = int64(val)
		case 2:
			vt.unit = int64(val)
		}
	}
	return vt, nil
}

func parseProfile(raw []byte) (*profile, error) {
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	p := &profile{locFuncs: map[uint64][]uint64{}, funcNames: map[uint64]int64{}}
	r := reader{b: raw}
	for !r.done() {
		num, wt, _, data, err := r.next()
		if err != nil {
			return nil, err
		}
		switch {
		case num == 1 && wt == 2:
			vt, err := parseValueType(data)
			if err != nil {
				return nil, err
			}
			p.sampleTypes = append(p.sampleTypes, vt)
		case num == 11 && wt == 2:
			if p.periodType, err = parseValueType(data); err != nil {
				return nil, err
			}
		case num == 6 && wt == 2:
			p.strs = append(p.strs, string(data))
		case num == 2 && wt == 2:
			var s sample
			sr := reader{b: data}
			for !sr.done() {
				n, w, v, d, err := sr.next()
				if err != nil {
					return nil, err
				}
				switch n {
				case 1:
					if s.locs, err = appendScalars(s.locs, w, v, d); err != nil {
						return nil, err
					}
				case 2:
					var vals []uint64
					if vals, err = appendScalars(nil, w, v, d); err != nil {
						return nil, err
					}
					for _, x := range vals {
						s.values = append(s.values, int64(x))
					}
				case 3:
					var l label
					lr := reader{b: d}
					for !lr.done() {
						ln, _, lv, _, err := lr.next()
						if err != nil {
							return nil, err
						}
						switch ln {
						case 1:
							l.key = int64(lv)
						case 2:
							l.str = int64(lv)
						}
					}
					s.labels = append(s.labels, l)
				}
			}
			p.samples = append(p.samples, s)
		case num == 4 && wt == 2:
			var id uint64
			var fns []uint64
			lr := reader{b: data}
			for !lr.done() {
				n, _, v, d, err := lr.next()
				if err != nil {
					return nil, err
				}
				switch n {
				case 1:
					id = v
				case 4:
					line := reader{b: d}
					for !line.done() {
						ln, _, lv, _, err := line.next()
						if err != nil {
							return nil, err
						}
						if ln == 1 {
							fns = append(fns, lv)
						}
					}
				}
			}
			p.locFuncs[id] = fns
		case num == 5 && wt == 2:
			var id uint64
			var name int64
			fr := reader{b: data}
			for !fr.done() {
				n, _, v, _, err := fr.next()
				if err != nil {
					return nil, err
				}
				switch n {
				case 1:
					id = v
				case 2:
					name = int64(v)
				}
			}
			p.funcNames[id] = name
		}
	}
	return p, nil
}

func (p *profile) str(i int64) string {
	if i < 0 || int(i) >= len(p.strs) {
		return fmt.Sprintf("<bad string %d>", i)
	}
	return p.strs[i]
}

// frames returns the function names of a sample, root first.
func (p *profile) frames(s sample) []string {
	var out []string
	for i := len(s.locs) - 1; i >= 0; i-- { // locations are leaf first
		fns := p.locFuncs[s.locs[i]]
		for j := len(fns) - 1; j >= 0; j-- { // lines: inlined callee first, caller last
			out = append(out, p.str(p.funcNames[fns[j]]))
		}
	}
	return out
}

// ---- summaries ---------------------------------------------------------------------------

type typeJSON struct {
	Type string `json:"type"`
	Unit string `json:"unit"`
}

type fileSummary struct {
	SampleTypes []typeJSON                    `json:"sample_types"`
	PeriodType  typeJSON                      `json:"period_type"`
	NumSamples  int                           `json:"num_samples"`
	Sums        []int64                       `json:"sums"`
	ByLabel     map[string]map[string][]int64 `json:"by_label"`
	Unlabeled   []int64                       `json:"unlabeled"`
	ByFunction  map[string][]int64            `json:"by_function"`
	stacks      map[string][]int64
}

func summarize(p *profile) *fileSummary {
	n := len(p.sampleTypes)
	fs := &fileSummary{
		NumSamples: len(p.samples),
		Sums:       make([]int64, n),
		Unlabeled:  make([]int64, n),
		ByLabel:    map[string]map[string][]int64{},
		ByFunction: map[string][]int64{},
		stacks:     map[string][]int64{},
	}
	for _, st := range p.sampleTypes {
		fs.SampleTypes = append(fs.SampleTypes, typeJSON{p.str(st.typ), p.str(st.unit)})
	}
	fs.PeriodType = typeJSON{p.str(p.periodType.typ), p.str(p.periodType.unit)}
	add := func(dst []int64, v []int64) {
		for i := range dst {
			if i < len(v) {
				dst[i] += v[i]
			}
		}
	}
	for _, s := range p.samples {
		add(fs.Sums, s.values)
		labelled := false
		for _, l := range s.labels {
			if l.str == 0 {
				continue
			}
			k, v := p.str(l.key), p.str(l.str)
			if fs.ByLabel[k] == nil {
				fs.ByLabel[k] = map[string][]int64{}
			}
			if fs.ByLabel[k][v] == nil {
				fs.ByLabel[k][v] = make([]int64, n)
			}
			add(fs.ByLabel[k][v], s.values)
			labelled = true
		}
		if !labelled {
			add(fs.Unlabeled, s.values)
		}
		frames := p.frames(s)
		seen := map[string]bool{}
		for _, f := range frames {
			if strings.HasPrefix(f, "main.") && !seen[f] {
				seen[f] = true
				if fs.ByFunction[f] == nil {
					fs.ByFunction[f] = make([]int64, n)
				}
				add(fs.ByFunction[f], s.values)
			}
		}
		key := strings.Join(frames, ";")
		if fs.stacks[key] == nil {
			fs.stacks[key] = make([]int64, n)
		}
		add(fs.stacks[key], s.values)
	}
	return fs
}

type deltaSummary struct {
	Sums           []int64 `json:"sums"`            // per type: Σ over stacks of (cur − prev)
	NegativeStacks []int   `json:"negative_stacks"` // per type: stacks where cur < prev
	ClampedSums    []int64 `json:"clamped_sums"`    // per type: Σ max(cur − prev, 0)
}

func delta(cur, prev *fileSummary) *deltaSummary {
	n := len(cur.Sums)
	d := &deltaSummary{
		Sums:           make([]int64, n),
		NegativeStacks: make([]int, n),
		ClampedSums:    make([]int64, n),
	}
	keys := map[string]bool{}
	for k := range cur.stacks {
		keys[k] = true
	}
	for k := range prev.stacks {
		keys[k] = true
	}
	for k := range keys {
		c, p := cur.stacks[k], prev.stacks[k]
		for i := 0; i < n; i++ {
			var cv, pv int64
			if c != nil {
				cv = c[i]
			}
			if p != nil && i < len(p) {
				pv = p[i]
			}
			d.Sums[i] += cv - pv
			if cv < pv {
				d.NegativeStacks[i]++
			} else {
				d.ClampedSums[i] += cv - pv
			}
		}
	}
	return d
}

func summarizeFile(path string) (*fileSummary, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := parseProfile(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return summarize(p), nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}

func main() {
	out := flag.String("out", ".", "output directory")
	cpuDur := flag.Duration("cpu", 400*time.Millisecond, "CPU burn time in burnAlpha (beta gets half)")
	summ := flag.Bool("summarize", false, "print the summary of the pprof files given as arguments")
	flag.Parse()

	if *summ {
		res := map[string]*fileSummary{}
		for _, f := range flag.Args() {
			s, err := summarizeFile(f)
			if err != nil {
				fatal(err)
			}
			res[filepath.Base(f)] = s
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fatal(err)
		}
		return
	}

	if err := os.MkdirAll(*out, 0o755); err != nil {
		fatal(err)
	}
	// Cumulative pair: heap1 after round one, heap after round two (more allocations, and
	// some of round one's memory released so inuse drops while alloc grows).
	allocSmall(1000)
	allocLarge(8)
	burnSink += uint64(allocTemp(50))
	if err := writeHeap(filepath.Join(*out, "heap1.pb.gz")); err != nil {
		fatal(err)
	}
	allocSmall(3000)
	allocLarge(12)
	burnSink += uint64(allocTemp(100))
	sink = append([][]byte(nil), sink[len(sink)/3:]...) // release a third of the live objects
	if err := writeHeap(filepath.Join(*out, "heap.pb.gz")); err != nil {
		fatal(err)
	}
	if err := writeCPU(filepath.Join(*out, "cpu.pb.gz"), *cpuDur); err != nil {
		fatal(err)
	}

	if err := writeSpans(filepath.Join(*out, "spans.pb.gz"), *cpuDur/2); err != nil {
		fatal(err)
	}

	files := []string{"cpu.pb.gz", "heap1.pb.gz", "heap.pb.gz", "spans.pb.gz"}
	sums := map[string]*fileSummary{}
	for _, f := range files {
		s, err := summarizeFile(filepath.Join(*out, f))
		if err != nil {
			fatal(err)
		}
		sums[f] = s
	}
	res := struct {
		Files  map[string]*fileSummary  `json:"files"`
		Deltas map[string]*deltaSummary `json:"deltas"`
		Keys   []string                 `json:"keys"`
	}{
		Files: sums,
		Deltas: map[string]*deltaSummary{
			"heap.pb.gz-heap1.pb.gz": delta(sums["heap.pb.gz"], sums["heap1.pb.gz"]),
		},
	}
	for k := range sums {
		res.Keys = append(res.Keys, k)
	}
	sort.Strings(res.Keys)
	buf, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "summary.json"), append(buf, '\n'), 0o644); err != nil {
		fatal(err)
	}
	fmt.Printf("gen: wrote %s (%d cpu samples, sink %d)\n", *out, sums["cpu.pb.gz"].NumSamples,
		len(sink)+int(burnSink&1))
}
