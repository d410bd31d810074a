package web

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/parleybot/parley"
)

// DefaultAddr is where the inbox listens unless told otherwise: this
// machine only.
const DefaultAddr = "127.0.0.1:8080"

// Config is the web section of Parley's config file.
//
//	web:
//	  addr: 127.0.0.1:8080        # where the inbox listens
//	  metrics_addr: ""            # e.g. 127.0.0.1:9090: /metrics (no login) there
//	  metrics_token_env: ""       # or /metrics on addr with this bearer token
//	  secure_cookies: false       # true behind HTTPS (see below)
//	  base_url: https://parley.example.com
//	  behind_proxy: false         # trust X-Forwarded-For/-Proto from a reverse proxy
//
// Session cookies are always HttpOnly and SameSite=Lax. They are marked
// Secure when SecureCookies is true, when BaseURL starts with https://, or
// when the request itself came over TLS (or, BehindProxy, with
// X-Forwarded-Proto: https). Plain http://127.0.0.1 therefore works out of
// the box; set secure_cookies: true for any deployment reached over HTTPS.
type Config struct {
	// Addr is host:port to listen on; default 127.0.0.1:8080.
	Addr string `yaml:"addr"`
	// MetricsAddr, when set, serves /metrics (and /healthz) on this
	// separate address, e.g. 127.0.0.1:9090. The inbox's address serves
	// /metrics only to a scraper with MetricsTokenEnv's token.
	MetricsAddr string `yaml:"metrics_addr"`
	// MetricsTokenEnv names the environment variable (or <VAR>_FILE, a
	// file) holding a bearer token that lets /metrics be read on Addr.
	MetricsTokenEnv string `yaml:"metrics_token_env"`
	// SecureCookies marks session cookies Secure (HTTPS only).
	SecureCookies bool `yaml:"secure_cookies"`
	// BaseURL is the address people use to reach the inbox (for links
	// printed elsewhere and as a trusted origin); default http://Addr.
	BaseURL string `yaml:"base_url"`
	// BehindProxy trusts X-Forwarded-For (for login rate limits and logs)
	// and X-Forwarded-Proto (for Secure cookies) from a reverse proxy. Only
	// set it when a proxy in front of Parley overwrites those headers.
	BehindProxy bool `yaml:"behind_proxy"`
}

// WithDefaults returns c with empty fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.BaseURL == "" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err == nil {
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			c.BaseURL = "http://" + net.JoinHostPort(host, port)
		}
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

// Validate returns every problem with c, each naming the key (web.addr...).
func (c Config) Validate() []error {
	var errs []error
	check := func(key, addr string) {
		if addr == "" {
			return
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("web.%s %q: want host:port, e.g. 127.0.0.1:8080", key, addr))
			return
		}
		_ = host
		if port == "" {
			errs = append(errs, fmt.Errorf("web.%s %q: the port is missing", key, addr))
			return
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("web.%s %q: the port must be a number from 0 to 65535", key, addr))
		}
	}
	check("addr", c.Addr)
	check("metrics_addr", c.MetricsAddr)
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr {
		errs = append(errs, fmt.Errorf("web.metrics_addr %q is the same as web.addr: leave it empty to serve /metrics there", c.MetricsAddr))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("web.base_url %q: want an absolute http:// or https:// URL", c.BaseURL))
		} else if u.Path != "" && u.Path != "/" {
			errs = append(errs, fmt.Errorf("web.base_url %q: serving under a path (%s) is not supported; use a host of its own", c.BaseURL, u.Path))
		}
	}
	return errs
}

// MetricsToken reads the bearer token that opens /metrics and
// /status.json on Addr (see metricsToken).
func (c Config) MetricsToken(getenv func(string) string) (string, error) {
	return c.metricsToken(getenv)
}

// metricsToken reads the bearer token for /metrics on Addr: "" when
// MetricsTokenEnv is not set, EINVALID when it names nothing.
func (c Config) metricsToken(getenv func(string) string) (string, error) {
	name := strings.TrimSpace(c.MetricsTokenEnv)
	if name == "" {
		return "", nil
	}
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v, nil
	}
	if file := strings.TrimSpace(getenv(name + "_FILE")); file != "" {
		b, err := os.ReadFile(file) //nolint:gosec // G304: the operator names the token file in the environment
		if err != nil {
			return "", parley.Errorf(parley.EINVALID, "web.metrics_token_env: reading the token file named by %s_FILE: %w", name, err)
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
	}
	return "", parley.Errorf(parley.EINVALID, "web.metrics_token_env: %s is not set in the environment (nor %s_FILE naming a file with the token)", name, name)
}

// secureBase reports whether BaseURL is https.
func (c Config) secureBase() bool { return strings.HasPrefix(strings.ToLower(c.BaseURL), "https://") }
