package digest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
)

// selfSigned makes a certificate for 127.0.0.1 and a client config that
// trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

// mailbox is an SMTP server on 127.0.0.1 (go-smtp) that requires
// STARTTLS and PLAIN auth and keeps what it receives.
type mailbox struct {
	addr string
	mu   sync.Mutex
	msgs []received
}

type received struct {
	from string
	to   []string
	data []byte
	user string
	tls  bool
}

type session struct {
	mb   *mailbox
	conn *smtp.Conn
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "digest-bot" || pass != "s3cret" {
			return errors.New("invalid credentials")
		}
		s.cur.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.cur.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, s.cur)
	s.mb.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{user: s.cur.user} }
func (s *session) Logout() error { return nil }

func (m *mailbox) received() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.msgs...)
}

func startMailbox(t *testing.T, serverTLS *tls.Config) *mailbox {
	t.Helper()
	mb := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{mb: mb, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = serverTLS
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mb.addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l) // ends when the cleanup closes the server
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return mb
}

// closedPort returns an address on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestSendDelivers sends the fixture's week to five targets at once: a
// folder, a real SMTP server (STARTTLS, login from the environment), an
// SMTP server that is down, a Discord poster that refuses for good and a
// Mastodon poster that fails once. The good ones get the digest, the bad
// ones are retried as they deserve and reported, and the store keeps it
// all. Sending again retries only what failed.
func TestSendDelivers(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	mb := startMailbox(t, serverTLS)
	dir := filepath.Join(t.TempDir(), "digests")
	st := fixtureStore(t)

	var discordCalls, mastodonCalls atomic.Int32
	posters := map[string]digest.Poster{
		digest.TargetDiscord: digest.PosterFunc(func(ctx context.Context, tg digest.Target, d *digest.Digest) error {
			discordCalls.Add(1)
			return parley.Errorf(parley.ENOTFOUND, "discord channel %s not found", tg.Channel)
		}),
		digest.TargetMastodon: digest.PosterFunc(func(ctx context.Context, tg digest.Target, d *digest.Digest) error {
			if mastodonCalls.Add(1) == 1 {
				return parley.Errorf(parley.EUNAVAILABLE, "mastodon: 503")
			}
			if !strings.Contains(d.Markdown(), "# Tidewater Skates · week 47") {
				return errors.New("not the digest")
			}
			return nil
		}),
	}
	cfg := digest.Config{
		TimeZone: "Europe/Berlin",
		Targets: []digest.Target{
			{Type: digest.TargetFile, Dir: dir},
			{Type: digest.TargetEmail, SMTP: mb.addr, From: "parley@example.com", To: []string{"ana@example.com", "ben@example.com"},
				UsernameEnv: "PARLEY_SMTP_USER", PasswordEnv: "PARLEY_SMTP_PASSWORD"},
			{Type: digest.TargetEmail, Name: "backup mail", SMTP: closedPort(t), From: "parley@example.com", To: []string{"ops@example.com"}, TLS: "none"},
			{Type: digest.TargetDiscord, Channel: "123"},
			{Type: digest.TargetMastodon, To: []string{"@ana@example.social"}},
		},
	}
	env := map[string]string{"PARLEY_SMTP_USER": "digest-bot", "PARLEY_SMTP_PASSWORD": "s3cret"}
	svc, err := digest.NewService(st, cfg, digest.ServiceOptions{
		Brand: "Tidewater Skates", Posters: posters, Getenv: func(k string) string { return env[k] },
		Now: func() time.Time { return fixtureAsOf }, Backoff: 10 * time.Millisecond, EmailTLS: clientTLS,
		EmailTimeout: 5 * time.Second, Owner: "test",
	})
	require.NoError(t, err)

	ctx := context.Background()
	rec, err := svc.Send(ctx, fixtureWeek, false)
	require.Error(t, err)
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "2 of 5 targets failed")
	assert.Equal(t, parley.DigestPartial, rec.Status)

	byTarget := map[string]parley.DigestDelivery{}
	for _, d := range rec.Deliveries {
		byTarget[d.Target] = d
	}
	file := byTarget["file "+dir]
	assert.True(t, file.OK)
	assert.Equal(t, 1, file.Attempts)
	email := byTarget["email to ana@example.com, ben@example.com"]
	assert.True(t, email.OK, email.Error)
	assert.Equal(t, 1, email.Attempts)
	assert.True(t, strings.HasPrefix(email.Detail, "message "), email.Detail)
	down := byTarget["backup mail"]
	assert.False(t, down.OK)
	assert.Equal(t, 3, down.Attempts, "a server that is down is retried")
	assert.Contains(t, down.Error, "connect")
	discord := byTarget["discord channel 123"]
	assert.False(t, discord.OK)
	assert.Equal(t, 1, discord.Attempts, "a channel that does not exist is not retried")
	assert.Equal(t, "discord channel 123 not found", discord.Error)
	masto := byTarget["mastodon DM to @ana@example.social"]
	assert.True(t, masto.OK)
	assert.Equal(t, 2, masto.Attempts)

	// The files.
	for _, name := range []string{"parley-digest-2026-W47.html", "parley-digest-2026-W47.md", "parley-digest-2026-W47.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Contains(t, string(b), "week 47", name)
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a digest is for the team only: %s", name)
	}
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "the digest folder Parley made")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "no temporary files left behind")

	// The email: over TLS, logged in, HTML with the charts inline and a
	// text alternative.
	msgs := mb.received()
	require.Len(t, msgs, 1)
	got := msgs[0]
	assert.True(t, got.tls, "STARTTLS was used")
	assert.Equal(t, "digest-bot", got.user)
	assert.Equal(t, "parley@example.com", got.from)
	assert.Equal(t, []string{"ana@example.com", "ben@example.com"}, got.to)
	checkEmail(t, got.data)

	// The store has the digest and every outcome.
	stored, err := st.Digest(ctx, "2026-W47")
	require.NoError(t, err)
	assert.Equal(t, parley.DigestPartial, stored.Status)
	assert.Equal(t, "Europe/Berlin", stored.TimeZone)
	assert.Equal(t, at(16, 0, 0), stored.Start.In(berlin))
	assert.Contains(t, stored.Markdown, "## What to do next")
	assert.Contains(t, stored.HTML, "<svg")
	assert.Contains(t, stored.Text, "What to do next\n---------------")
	assert.Equal(t, "9 mentions (+125%) · 56% negative · 78% replied · median reply 1h · 2 negative waiting", stored.Summary)
	require.Len(t, stored.Deliveries, 5)
	assert.Equal(t, "file "+dir, stored.Deliveries[0].Target, "deliveries keep the config's order")
	assert.Equal(t, 3, stored.Deliveries[2].Attempts)

	// Sending again retries only the failed targets: no second email, no
	// second Mastodon post.
	_, err = svc.Send(ctx, fixtureWeek, false)
	require.Error(t, err)
	assert.Len(t, mb.received(), 1)
	assert.Equal(t, int32(2), mastodonCalls.Load())
	assert.Equal(t, int32(2), discordCalls.Load())

	// Forced, it goes everywhere again.
	_, err = svc.Send(ctx, fixtureWeek, true)
	require.Error(t, err)
	assert.Len(t, mb.received(), 2)
	assert.Equal(t, int32(3), mastodonCalls.Load())
}

// checkEmail parses a received message: subject, an HTML part with
// cid: images, the three PNGs with matching Content-IDs, and a text part.
func checkEmail(t *testing.T, data []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "Tidewater Skates · week 47 (16–22 Nov 2026): 9 mentions, 2 negative threads waiting", subject)
	assert.NotEmpty(t, msg.Header.Get("Message-Id"))

	parts := map[string][]byte{} // by content type or content id
	var walk func(ct string, body io.Reader, header map[string][]string)
	walk = func(ct string, body io.Reader, header map[string][]string) {
		mt, params, err := mime.ParseMediaType(ct)
		require.NoError(t, err)
		if strings.HasPrefix(mt, "multipart/") {
			parts[mt] = nil
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextPart()
				if errors.Is(err, io.EOF) {
					return
				}
				require.NoError(t, err)
				walk(p.Header.Get("Content-Type"), p, p.Header)
			}
		}
		b, err := io.ReadAll(decodeBody(header, body))
		require.NoError(t, err)
		if id := strings.Trim(firstHeader(header, "Content-Id"), "<>"); id != "" {
			parts["cid:"+id] = b
			assert.Equal(t, "image/png", mt)
			return
		}
		parts[mt] = b
	}
	walk(msg.Header.Get("Content-Type"), msg.Body, msg.Header)
	assert.Contains(t, parts, "multipart/related")
	assert.Contains(t, parts, "multipart/alternative")
	html := string(parts["text/html"])
	assert.Contains(t, html, "What to do next")
	for _, name := range []string{"volume.png", "sentiment.png", "response.png"} {
		assert.Contains(t, html, `src="cid:`+name+`"`)
		png := parts["cid:"+name]
		assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), name)
	}
	assert.NotContains(t, html, "<svg", "mail clients drop SVG")
	text := strings.ReplaceAll(string(parts["text/plain"]), "\r\n", "\n")
	assert.Contains(t, text, "What to do next\n---------------")
	assert.Contains(t, text, "Open <https://example.social/@dee/m5>")
}

func firstHeader(h map[string][]string, key string) string {
	for k, v := range h {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func decodeBody(h map[string][]string, body io.Reader) io.Reader {
	switch strings.ToLower(firstHeader(h, "Content-Transfer-Encoding")) {
	case "base64":
		return base64Reader(body)
	case "quoted-printable":
		return qpReader(body)
	}
	return body
}
