package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A reply template that would loop for ever is a config error with its
// line: 'parley check' says so at once, and 'parley run' refuses to start
// instead of spinning deaf to SIGTERM.
func TestCheckRefusesAnEndlessTemplate(t *testing.T) {
	cfg := writeFile(t, "p.yaml", `brand: {name: Tidewater Skates}
rules:
  - name: loop
    when: "true"
    reply: "{{range 100000000000}}{{end}}"
`)
	start := time.Now()
	r := parleyRun(t, "", "check", "--config", cfg)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, cfg+":5: ")
	assert.Contains(t, r.stdout, "at most 1000")
	r = parleyRun(t, "", "run", "--config", cfg, "--db", t.TempDir()+"/p.db", "--addr", "127.0.0.1:0")
	assert.NotEqual(t, 0, r.code)
	assert.True(t, strings.Contains(r.stdout+r.stderr, "at most 1000"), r.stdout+r.stderr)
	assert.Less(t, time.Since(start), patience, "the endless template was cut short")
}

// Checking a config whose templates are slow (each within the bounds)
// answers a cancellation (SIGTERM) at once instead of after the last rule.
func TestCheckHonoursCancellation(t *testing.T) {
	var b strings.Builder
	b.WriteString("brand: {name: Tidewater Skates}\nrules:\n")
	for i := range 12 {
		fmt.Fprintf(&b, "  - name: slow%d\n    when: \"true\"\n    reply: '{{range 1000}}{{range 1000}}{{end}}{{end}}ok'\n", i)
	}
	cfg := writeFile(t, "p.yaml", b.String())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := parleyCtx(t, ctx, strings.NewReader(""), "check", "--config", cfg)
	assert.Less(t, time.Since(start), 2*time.Second, "check returned when cancelled")
	assert.NotEqual(t, 0, r.code, r.stdout+r.stderr)
}
