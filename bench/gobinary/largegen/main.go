// Command largegen writes a large Go program for bench/gobinary/run.sh: a
// main package that keeps alive every function of -pkgs generated packages
// with -funcs functions each. Every function inlines a two-level helper chain
// (so lookups exercise the inline tree) and calls a neighbour.
//
// Usage: go run ./largegen -out DIR [-pkgs 120] [-funcs 500]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "", "directory to write the program to")
	pkgs := flag.Int("pkgs", 120, "number of packages")
	funcs := flag.Int("funcs", 500, "functions per package")
	flag.Parse()
	if *out == "" {
		log.Fatal("-out is required")
	}
	write := func(path string, body func(w *bufio.Writer)) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			log.Fatal(err)
		}
		w := bufio.NewWriter(f)
		body(w)
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
	write(filepath.Join(*out, "go.mod"), func(w *bufio.Writer) {
		fmt.Fprintln(w, "module gspy.bench/large\n\ngo 1.20")
	})
	for p := 0; p < *pkgs; p++ {
		write(filepath.Join(*out, fmt.Sprintf("p%03d/p.go", p)), func(w *bufio.Writer) {
			fmt.Fprintf(w, "package p%03d\n\n", p)
			fmt.Fprintln(w, "func rot(a, b int) int { return a<<3 ^ a>>5 ^ b }")
			fmt.Fprintln(w, "func mix(a, b int) int { return rot(a*31, b) + b }")
			fmt.Fprintf(w, "\nvar Funcs = []func(int) int{\n")
			for i := 0; i < *funcs; i++ {
				fmt.Fprintf(w, "\tF%d,\n", i)
			}
			fmt.Fprintln(w, "}")
			for i := 0; i < *funcs; i++ {
				fmt.Fprintf(w, `
func F%[1]d(x int) int {
	a := x*%[2]d + %[3]d
	for j := 0; j < 3; j++ {
		a = mix(a, j) + mix(j, a)
	}
	switch a %% 5 {
	case 0:
		a += %[4]d
	case 1:
		a ^= a >> %[5]d
	case 2:
		a -= mix(a, %[6]d)
	default:
		a *= %[7]d
	}
	if a%%7 == %[8]d && x > 0 {
		a += F%[9]d(x - 1)
	}
	return a ^ %[10]d
}
`, i, i+3, p*7+i, i*13, i%11+1, p+i, i%17+2, i%7, (i+1)%*funcs, p*i)
			}
		})
	}
	write(filepath.Join(*out, "main.go"), func(w *bufio.Writer) {
		fmt.Fprintln(w, "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"")
		for p := 0; p < *pkgs; p++ {
			fmt.Fprintf(w, "\t\"gspy.bench/large/p%03d\"\n", p)
		}
		fmt.Fprintln(w, ")\n\nvar all = [][]func(int) int{")
		for p := 0; p < *pkgs; p++ {
			fmt.Fprintf(w, "\tp%03d.Funcs,\n", p)
		}
		fmt.Fprintln(w, `}

func main() {
	s := 0
	for _, fs := range all {
		for _, f := range fs {
			s += f(len(os.Args))
		}
	}
	fmt.Println(s)
}`)
	})
}
