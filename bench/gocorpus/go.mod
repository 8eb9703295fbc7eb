module ember/bench/gocorpus

go 1.19
