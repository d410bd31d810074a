package main

import (
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
	assert.Less(t, time.Since(start), 20*time.Second)
}
