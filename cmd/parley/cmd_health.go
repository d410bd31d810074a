package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

func init() {
	register(&command{
		name:    "health",
		summary: "probe a running parley's /healthz (for container health checks)",
		usage: `parley health [--addr HOST:PORT | --url URL] [--timeout 5s]

Asks a running 'parley run' for GET /healthz and exits 0 when it answers
200, else 1 with the reason. Container images have no curl: the Dockerfile's
HEALTHCHECK runs this. --addr defaults to PARLEY_ADDR, else the config's
web.addr, else 127.0.0.1:8080; a wildcard host (0.0.0.0, [::]) is probed
on the loopback address.

Example:
  parley health --addr 127.0.0.1:8080`,
		run: runHealth,
	})
}

func runHealth(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	addr := fs.String("addr", "", "where parley run listens (default the config's web.addr, else "+web.DefaultAddr+")")
	rawURL := fs.String("url", "", "the full /healthz URL, e.g. https://parley.example.com/healthz")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	u := *rawURL
	if u == "" {
		a := *addr
		if a == "" {
			a = e.envAddr()
		}
		if a == "" {
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			if cfg != nil {
				a = cfg.Web.Addr
			}
		}
		if a == "" {
			a = web.DefaultAddr
		}
		u = "http://" + probeAddr(a) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return parley.Errorf(parley.EUNAVAILABLE, "no answer from %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var h struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	_ = json.Unmarshal(body, &h)
	if resp.StatusCode != http.StatusOK {
		reason := h.Error
		if reason == "" {
			reason = strings.TrimSpace(string(body))
		}
		return parley.Errorf(parley.EUNAVAILABLE, "%s answered %s: %s", u, resp.Status, reason)
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", u, strings.TrimSpace(string(body)))
	return nil
}

// probeAddr turns a listen address into one to connect to: a wildcard or
// empty host becomes the loopback address.
func probeAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
