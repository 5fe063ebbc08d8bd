module github.com/berth-runtime/berth/tests/runc-suite

go 1.24
