// Command ts0045 presents the TAICS TS-0045 v1.0:2021 requirement catalogue.
//
// Usage:
//
//	ts0045 clauses [--format table|json] [--lang en|zh] [--conditions 1,2,5]
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "ts0045: %v\n", err)
		os.Exit(1)
	}
}
