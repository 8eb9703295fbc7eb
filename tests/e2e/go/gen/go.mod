module ember/gen

go 1.19
