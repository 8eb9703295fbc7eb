// Command gocorpus writes a corpus of real Go CPU and heap profiles (runtime/pprof) for
// Ember's benchmarks: a mixed workload (JSON, sorting, hashing, gzip, regexps, maps) so the
// stacks look like a service's, not a toy's. Usage: gocorpus -out DIR -n 8 -cpu-ms 300
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"
)

type record struct {
	ID    int               `json:"id"`
	Name  string            `json:"name"`
	Tags  map[string]string `json:"tags"`
	Score float64           `json:"score"`
}

var sink []byte
var keep [][]byte

//go:noinline
func encodeJSON(r *rand.Rand) {
	recs := make([]record, 200)
	for i := range recs {
		recs[i] = record{ID: i, Name: fmt.Sprintf("rec-%d", r.Int()), Tags: map[string]string{"a": "b", "c": fmt.Sprint(i)}, Score: r.Float64()}
	}
	b, _ := json.Marshal(recs)
	var out []record
	_ = json.Unmarshal(b, &out)
	sink = b
}

//go:noinline
func sortWork(r *rand.Rand) {
	xs := make([]string, 5000)
	for i := range xs {
		xs[i] = fmt.Sprintf("%08x", r.Uint32())
	}
	sort.Strings(xs)
}

//go:noinline
func hashWork() {
	buf := bytes.Repeat([]byte("ember"), 20000)
	for i := 0; i < 20; i++ {
		s := sha256.Sum256(buf)
		buf[0] = s[0]
	}
}

//go:noinline
func gzipWork(r *rand.Rand) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	line := []byte(strings.Repeat("GET /api/v1/items?id=42 200 ", 40))
	for i := 0; i < 200; i++ {
		line[5] = byte('a' + r.Intn(26))
		_, _ = w.Write(line)
	}
	_ = w.Close()
	sink = b.Bytes()
}

var re = regexp.MustCompile(`^(\w+)-(\d+)@([a-z]+)\.example\.com$`)

//go:noinline
func regexWork(r *rand.Rand) {
	for i := 0; i < 2000; i++ {
		re.FindStringSubmatch(fmt.Sprintf("user-%d@host%c.example.com", r.Intn(1000), 'a'+r.Intn(26)))
	}
}

//go:noinline
func mapChurn(r *rand.Rand) {
	m := map[int][]byte{}
	for i := 0; i < 20000; i++ {
		m[r.Intn(5000)] = make([]byte, 64+r.Intn(256))
	}
	if r.Intn(4) == 0 {
		keep = append(keep, make([]byte, 1<<16))
		if len(keep) > 64 {
			keep = keep[1:]
		}
	}
}

func serve(r *rand.Rand, until time.Time) {
	for time.Now().Before(until) {
		switch r.Intn(6) {
		case 0:
			encodeJSON(r)
		case 1:
			sortWork(r)
		case 2:
			hashWork()
		case 3:
			gzipWork(r)
		case 4:
			regexWork(r)
		default:
			mapChurn(r)
		}
	}
}

func main() {
	out := flag.String("out", "corpus", "output directory")
	n := flag.Int("n", 8, "profiles of each kind")
	cpuMs := flag.Int("cpu-ms", 300, "CPU profile duration (ms)")
	flag.Parse()
	runtime.MemProfileRate = 64 * 1024
	if err := os.MkdirAll(*out, 0o755); err != nil {
		panic(err)
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < *n; i++ {
		f, err := os.Create(filepath.Join(*out, fmt.Sprintf("cpu-%03d.pb.gz", i)))
		if err != nil {
			panic(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			panic(err)
		}
		done := make(chan struct{})
		go func() { serve(rand.New(rand.NewSource(int64(i))), time.Now().Add(time.Duration(*cpuMs)*time.Millisecond)); close(done) }()
		serve(r, time.Now().Add(time.Duration(*cpuMs)*time.Millisecond))
		<-done
		pprof.StopCPUProfile()
		f.Close()
		h, err := os.Create(filepath.Join(*out, fmt.Sprintf("heap-%03d.pb.gz", i)))
		if err != nil {
			panic(err)
		}
		if err := pprof.WriteHeapProfile(h); err != nil {
			panic(err)
		}
		h.Close()
	}
}
