// Package webhook posts Parley's events to the URLs people subscribe, signed
// so a receiver can tell they came from Parley and were not replayed.
//
// Every POST carries the event's JSON (parley.Event.Body) and the header
//
//	Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// as Stripe's Stripe-Signature does; Verify checks one. Parley-Event-Id
// and Parley-Event-Type repeat the event's id and type, so a receiver can
// deduplicate before it parses the body.
//
// The client refuses anything but http and https, does not follow
// redirects, and by default refuses to connect to loopback, private,
// link-local and other non-public addresses (checked on the address it
// actually dials, so a DNS name that resolves inside the network is
// refused too); AllowPrivate lifts that for receivers inside the network.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleybot/parley"
)

// Headers a delivery carries.
const (
	SignatureHeader = "Parley-Signature"
	EventIDHeader   = "Parley-Event-Id"
	EventTypeHeader = "Parley-Event-Type"
)

// DefaultTolerance is how old a signature Verify accepts by default.
const DefaultTolerance = 5 * time.Minute

// Sign returns the Parley-Signature header for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a Parley-Signature header against body: one of its v1
// signatures must match, and its timestamp must be within tolerance of
// now (0 means DefaultTolerance), so a captured delivery cannot be
// replayed later. Errors say what was wrong.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("signature header %q: no timestamp", header)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("signature header %q: no v1 signature", header)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp %s is %s away from now: too old or from the future", ts, d.Round(time.Second))
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return errors.New("signature does not match the body")
}

// Options tune a Client.
type Options struct {
	// AllowPrivate lets deliveries go to loopback, private and link-local
	// addresses (webhooks.allow_private). Off by default: a subscription
	// must not be a way to reach inside the network Parley runs in.
	AllowPrivate bool
	// Timeout bounds one POST; default 10s.
	Timeout time.Duration
	// UserAgent; default "Parley-Webhooks/1".
	UserAgent string
}

// Client posts signed events.
type Client struct {
	http *http.Client
	opts Options
}

// NewClient returns a client with its own transport (the address check
// lives in its dialer).
func NewClient(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "Parley-Webhooks/1"
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		if opts.AllowPrivate {
			return nil
		}
		return checkAddress(address)
	}}
	tr := &http.Transport{DialContext: dialer.DialContext, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 2,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: opts.Timeout, ResponseHeaderTimeout: opts.Timeout,
		// The proxy from the environment would dial for us and bypass the check.
		Proxy: nil}
	return &Client{opts: opts, http: &http.Client{Transport: tr, Timeout: opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// errPrivate marks a refused address.
var errPrivate = errors.New("a private or local address")

// checkAddress refuses a dialed address that is not on the public internet.
func checkAddress(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || sharedOrReserved(ip) {
		return fmt.Errorf("%s is %w: set webhooks.allow_private: true to deliver inside the network", ip, errPrivate)
	}
	return nil
}

var reserved = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

func sharedOrReserved(ip netip.Addr) bool {
	for _, p := range reserved {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// CheckURL refuses a URL a delivery may not go to: not http or https, or
// (without AllowPrivate) a literal private address. Names are checked
// again on every dial.
func (c *Client) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return parley.Errorf(parley.EINVALID, "webhook URL %q: want an http:// or https:// URL", raw)
	}
	if c.opts.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return parley.Errorf(parley.EINVALID, "webhook URL %q: localhost is %v: set webhooks.allow_private: true to allow it", raw, errPrivate)
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if err := checkAddress(net.JoinHostPort(strings.Trim(host, "[]"), "80")); err != nil {
			return parley.Errorf(parley.EINVALID, "webhook URL %q: %v", raw, err)
		}
	}
	return nil
}

// Post sends d's body to its URL, signed with its secret at now, and
// returns the HTTP status (0 when no answer came) and how long it took. A
// 2xx answer is success; anything else is an error. Errors with code
// EINVALID will not pass by retrying (a bad URL, a refused address); the
// others may. It is a bot.WebhookPoster.
func (c *Client) Post(ctx context.Context, d parley.WebhookDelivery, now time.Time) (int, time.Duration, error) {
	start := time.Now()
	if err := c.CheckURL(d.URL); err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, 0, parley.Errorf(parley.EINVALID, "webhook URL %q: %v", redactURL(d.URL), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set(SignatureHeader, Sign(d.Secret, now, d.Body))
	req.Header.Set(EventIDHeader, d.EventID)
	req.Header.Set(EventTypeHeader, d.EventType)
	resp, err := c.http.Do(req)
	took := time.Since(start)
	if err != nil {
		// The URL may hold a token in its query: name the host and path only.
		if errors.Is(err, errPrivate) {
			return 0, took, parley.Errorf(parley.EINVALID, "post to %s: %v", redactURL(d.URL), unwrapURLError(err))
		}
		return 0, took, parley.Errorf(parley.EUNAVAILABLE, "post to %s: %v", redactURL(d.URL), unwrapURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, took, parley.Errorf(parley.EUNAVAILABLE, "%s answered %s", redactURL(d.URL), resp.Status)
	}
	return resp.StatusCode, took, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactURL keeps a URL's scheme, host and path: a query or user part may
// carry a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the webhook URL"
	}
	return u.Scheme + "://" + u.Host + u.Path
}
