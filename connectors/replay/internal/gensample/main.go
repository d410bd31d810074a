// Command gensample assembles the demo sample of package replay
// (sample.jsonl) from the hand-written people and posts in people.txt and
// posts.txt. It is deterministic: the same inputs give the same bytes.
//
//	go run ./connectors/replay/internal/gensample -o connectors/replay/sample.jsonl
//
// (or `go generate ./connectors/replay`). The hand-written files say who
// wrote what, which post answers which, and on which day when it matters;
// this program draws the rest (hours, reply delays, days of undated posts,
// ids, follower counts) from a fixed seed and writes the replay format.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed people.txt
var peopleTxt string

//go:embed posts.txt
var postsTxt string

var (
	start = time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC) // a Monday
	days  = 35                                            // to Sunday 2026-11-22
	end   = start.AddDate(0, 0, days).Add(-time.Second)
)

const (
	guildID        = "1209338410067415040"
	discordEpochMS = 1420070400000
)

type person struct {
	key       string
	platform  string
	handle    string
	name      string
	followers int
	tz        string
	lang      string
	channel   string
	nobot     bool
	id        string
}

type post struct {
	line    int
	ref     string
	who     *person
	when    string
	replyTo *post
	flags   map[string]string
	text    string

	at      time.Time
	id      string
	channel string
}

// record is one line of the replay format.
type record struct {
	Platform   string `json:"platform"`
	ID         string `json:"id"`
	Author     author `json:"author"`
	Text       string `json:"text"`
	CreatedAt  string `json:"created_at"`
	InReplyTo  string `json:"in_reply_to,omitempty"`
	URL        string `json:"url,omitempty"`
	Channel    string `json:"channel,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	Lang       string `json:"lang,omitempty"`
	Direct     bool   `json:"direct,omitempty"`
	ThreadKey  string `json:"thread_key,omitempty"`
}

type author struct {
	ID        string `json:"id"`
	Handle    string `json:"handle,omitempty"`
	Name      string `json:"name,omitempty"`
	Followers int    `json:"followers,omitempty"`
	NoBot     bool   `json:"nobot,omitempty"`
	TimeZone  string `json:"timezone,omitempty"`
}

func main() {
	out := flag.String("o", "", "write the sample to this file (default: standard output)")
	flag.Parse()
	data, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensample:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(data)
	} else {
		err = os.WriteFile(*out, data, 0o644) //nolint:gosec // G306: sample data for the repository, not private
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensample:", err)
		os.Exit(1)
	}
}

type generator struct {
	rng     *rand.Rand
	people  map[string]*person
	order   []*person // in order of first appearance
	posts   []*post
	refs    map[string]*post
	threads map[string]string
	dms     map[string]string
	chans   map[string]string
}

func generate() ([]byte, error) {
	g := &generator{
		rng:     rand.New(rand.NewPCG(20261019, 20261122)),
		people:  map[string]*person{},
		refs:    map[string]*post{},
		threads: map[string]string{},
		dms:     map[string]string{},
		chans:   map[string]string{},
	}
	if err := g.readPeople(); err != nil {
		return nil, err
	}
	if err := g.readPosts(); err != nil {
		return nil, err
	}
	g.assignAuthors()
	if err := g.schedule(); err != nil {
		return nil, err
	}
	return g.render()
}

// lines yields the non-comment lines of a script with their numbers.
func lines(s string) func(func(int, string) bool) {
	return func(yield func(int, string) bool) {
		sc := bufio.NewScanner(strings.NewReader(s))
		n := 0
		for sc.Scan() {
			n++
			l := strings.TrimSpace(sc.Text())
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if !yield(n, sc.Text()) {
				return
			}
		}
	}
}

func fields(l string, n int) []string {
	f := strings.SplitN(l, "|", n)
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

func (g *generator) readPeople() error {
	for n, l := range lines(peopleTxt) {
		f := fields(l, 6)
		if len(f) != 6 {
			return fmt.Errorf("people.txt:%d: want 6 fields, got %d", n, len(f))
		}
		p := &person{key: f[0], handle: f[2], name: f[3]}
		switch f[1] {
		case "m":
			p.platform = "mastodon"
			p.lang = "en"
		case "d":
			p.platform = "discord"
			p.channel = "#general"
		default:
			return fmt.Errorf("people.txt:%d: platform %q: want m or d", n, f[1])
		}
		if f[4] != "" {
			v, err := strconv.Atoi(f[4])
			if err != nil {
				return fmt.Errorf("people.txt:%d: followers: %w", n, err)
			}
			p.followers = v
		} else if p.platform == "mastodon" {
			p.followers = -1 // drawn later
		}
		for k, v := range parseFlags(f[5]) {
			switch k {
			case "tz":
				if _, err := time.LoadLocation(v); err != nil {
					return fmt.Errorf("people.txt:%d: %w", n, err)
				}
				p.tz = v
			case "lang":
				p.lang = v
			case "ch":
				p.channel = v
			case "nobot":
				p.nobot = true
			default:
				return fmt.Errorf("people.txt:%d: unknown extra %q", n, k)
			}
		}
		if g.people[p.key] != nil {
			return fmt.Errorf("people.txt:%d: %s declared twice", n, p.key)
		}
		g.people[p.key] = p
	}
	return nil
}

func parseFlags(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

// inline returns the one-time poster described by who
// ("m:handle@instance:Name" or "d:username:Name").
func (g *generator) inline(who string) (*person, error) {
	if p := g.people[who]; p != nil {
		return p, nil
	}
	parts := strings.SplitN(who, ":", 3)
	if len(parts) != 3 || parts[1] == "" {
		return nil, fmt.Errorf("unknown person %q (want a key from people.txt, m:handle:Name or d:user:Name)", who)
	}
	p := &person{key: who, handle: parts[1], name: parts[2]}
	switch parts[0] {
	case "m":
		p.platform, p.lang, p.followers = "mastodon", "en", -1
		if !strings.Contains(p.handle, "@") {
			return nil, fmt.Errorf("mastodon handle %q: want user@instance", p.handle)
		}
	case "d":
		p.platform, p.channel = "discord", "#general"
	default:
		return nil, fmt.Errorf("person %q: platform %q: want m or d", who, parts[0])
	}
	g.people[who] = p
	return p, nil
}

func (g *generator) readPosts() error {
	seen := map[*person]bool{}
	for n, l := range lines(postsTxt) {
		f := fields(l, 6)
		if len(f) != 6 || f[5] == "" {
			return fmt.Errorf("posts.txt:%d: want 6 fields with a text", n)
		}
		p := &post{line: n, ref: f[0], when: f[2], flags: parseFlags(f[4])}
		p.text = strings.ReplaceAll(f[5], `\n`, "\n")
		who, err := g.inline(f[1])
		if err != nil {
			return fmt.Errorf("posts.txt:%d: %w", n, err)
		}
		p.who = who
		if !seen[who] {
			seen[who] = true
			g.order = append(g.order, who)
		}
		if f[3] != "" {
			parent := g.refs[f[3]]
			if parent == nil {
				return fmt.Errorf("posts.txt:%d: reply to %q: no earlier post has that ref", n, f[3])
			}
			if parent.who.platform != who.platform {
				return fmt.Errorf("posts.txt:%d: a %s post cannot answer a %s post", n, who.platform, parent.who.platform)
			}
			p.replyTo = parent
		}
		for k := range p.flags {
			switch k {
			case "lang", "ch", "dm", "vis", "thread", "dup":
			default:
				return fmt.Errorf("posts.txt:%d: unknown flag %q", n, k)
			}
		}
		if p.ref != "" {
			if g.refs[p.ref] != nil {
				return fmt.Errorf("posts.txt:%d: ref %q used twice", n, p.ref)
			}
			g.refs[p.ref] = p
		}
		g.posts = append(g.posts, p)
	}
	return nil
}

// snowflake returns a Discord-style id for time t.
func (g *generator) snowflake(t time.Time) string {
	ms := t.UnixMilli() - discordEpochMS
	return strconv.FormatInt(ms<<22|g.rng.Int64N(1<<22), 10)
}

// mastodonID returns a Mastodon-style (timestamp << 16) id for time t.
func (g *generator) mastodonID(t time.Time) string {
	return strconv.FormatInt(t.UnixMilli()<<16|g.rng.Int64N(1<<16), 10)
}

func (g *generator) assignAuthors() {
	for _, p := range g.order {
		joined := time.Date(2016+g.rng.IntN(9), time.Month(1+g.rng.IntN(12)), 1+g.rng.IntN(28), g.rng.IntN(24), g.rng.IntN(60), 0, 0, time.UTC)
		switch p.platform {
		case "mastodon":
			if g.rng.IntN(3) == 0 {
				p.id = strconv.Itoa(1000 + g.rng.IntN(900000)) // an old account
			} else {
				p.id = g.mastodonID(joined)
			}
			if p.followers < 0 {
				// Log-normal: most accounts have tens to hundreds.
				p.followers = int(math.Round(math.Exp(4.2 + 1.2*g.rng.NormFloat64())))
				p.followers = min(p.followers, 9000)
			}
		case "discord":
			p.id = g.snowflake(joined)
		}
	}
}

// dayWeight makes weekdays busier than weekends; the launch (day 22) and
// the restock (day 31) get their posts from explicit dates.
func dayWeight(d int) float64 {
	switch start.AddDate(0, 0, d).Weekday() {
	case time.Saturday, time.Sunday:
		return 0.45
	}
	if d == 22 || d == 31 {
		return 0
	}
	return 1
}

var hourWeights = [24]float64{
	0.35, 0.25, 0.2, 0.15, 0.15, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1, // 00-11 UTC
	1.1, 1.2, 1.3, 1.3, 1.3, 1.4, 1.4, 1.3, 1.2, 1.1, 0.9, 0.6, // 12-23 UTC
}

func pick(rng *rand.Rand, weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	x := rng.Float64() * sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (g *generator) clock(day int) time.Time {
	h := pick(g.rng, hourWeights[:])
	return start.AddDate(0, 0, day).Add(time.Duration(h)*time.Hour +
		time.Duration(g.rng.IntN(3600))*time.Second)
}

func (g *generator) schedule() error {
	var dayW []float64
	for d := range days {
		dayW = append(dayW, dayWeight(d))
	}
	var prev *post
	for _, p := range g.posts {
		w := p.when
		switch {
		case strings.HasPrefix(w, "+"):
			mins, err := strconv.Atoi(w[1:])
			if err != nil || mins <= 0 {
				return fmt.Errorf("posts.txt:%d: when %q: want +MINUTES", p.line, w)
			}
			base := p.replyTo
			if base == nil {
				base = prev
			}
			if base == nil {
				return fmt.Errorf("posts.txt:%d: %q with nothing before it", p.line, w)
			}
			p.at = base.at.Add(time.Duration(mins)*time.Minute + time.Duration(g.rng.IntN(60))*time.Second)
		case w == "" && p.replyTo != nil:
			delay := 3 + g.rng.ExpFloat64()*70
			p.at = p.replyTo.at.Add(time.Duration(min(delay, 600) * float64(time.Minute)))
		case w == "":
			p.at = g.clock(pick(g.rng, dayW))
		default:
			ds, hm, hasTime := strings.Cut(w, " ")
			d, err := strconv.Atoi(ds)
			if err != nil || d < 0 || d >= days {
				return fmt.Errorf("posts.txt:%d: day %q: want 0..%d", p.line, ds, days-1)
			}
			if !hasTime {
				p.at = g.clock(d)
				break
			}
			t, err := time.Parse("15:04", hm)
			if err != nil {
				return fmt.Errorf("posts.txt:%d: time %q: %w", p.line, hm, err)
			}
			p.at = start.AddDate(0, 0, d).Add(time.Duration(t.Hour())*time.Hour +
				time.Duration(t.Minute())*time.Minute + time.Duration(g.rng.IntN(60))*time.Second)
		}
		if p.replyTo != nil && !p.at.After(p.replyTo.at) {
			return fmt.Errorf("posts.txt:%d: answers a post made later (%s <= %s)", p.line, p.at, p.replyTo.at)
		}
		if p.at.After(end) {
			return fmt.Errorf("posts.txt:%d: %s is after the sample ends", p.line, p.at)
		}
		prev = p
	}
	// Ids follow time, as on the platforms.
	sorted := slices.Clone(g.posts)
	slices.SortStableFunc(sorted, func(a, b *post) int { return a.at.Compare(b.at) })
	g.posts = sorted
	for _, p := range g.posts {
		if p.who.platform == "mastodon" {
			p.id = g.mastodonID(p.at)
		} else {
			p.id = g.snowflake(p.at)
		}
	}
	return nil
}

func (g *generator) idFor(m map[string]string, name string) string {
	if id, ok := m[name]; ok {
		return id
	}
	id := g.snowflake(start.Add(-time.Duration(1+g.rng.IntN(500)) * 24 * time.Hour))
	m[name] = id
	return id
}

func (g *generator) record(p *post) (record, error) {
	a := p.who
	r := record{
		Platform:  a.platform,
		ID:        p.id,
		Author:    author{ID: a.id, Handle: a.handle, Name: a.name, Followers: a.followers, NoBot: a.nobot, TimeZone: a.tz},
		Text:      p.text,
		CreatedAt: p.at.Format(time.RFC3339),
	}
	if p.replyTo != nil {
		r.InReplyTo = p.replyTo.id
	}
	_, dm := p.flags["dm"]
	switch a.platform {
	case "mastodon":
		user, instance, _ := strings.Cut(a.handle, "@")
		r.URL = "https://" + instance + "/@" + user + "/" + p.id
		r.Visibility = "public"
		if v := p.flags["vis"]; v != "" {
			r.Visibility = v
		}
		if dm {
			r.Visibility = "direct"
		}
		r.Direct = r.Visibility == "direct"
		r.Lang = a.lang
		if l := p.flags["lang"]; l != "" {
			r.Lang = l
		}
	case "discord":
		if _, ok := p.flags["lang"]; ok {
			return r, fmt.Errorf("posts.txt:%d: Discord does not tell a language", p.line)
		}
		if dm {
			r.Direct = true
			r.URL = "https://discord.com/channels/@me/" + g.idFor(g.dms, a.key) + "/" + p.id
			break
		}
		ch := a.channel
		if p.replyTo != nil && p.replyTo.channel != "" {
			ch = p.replyTo.channel // a reply stays in its channel
		}
		if c := p.flags["ch"]; c != "" {
			ch = c
		}
		p.channel, r.Channel = ch, ch
		chID := g.idFor(g.chans, ch)
		if t := p.flags["thread"]; t != "" {
			chID = g.idFor(g.threads, t)
			r.ThreadKey = chID
		}
		r.URL = "https://discord.com/channels/" + guildID + "/" + chID + "/" + p.id
	}
	return r, nil
}

func (g *generator) render() ([]byte, error) {
	var lines [][]byte
	var dups []struct {
		line []byte
		at   int
	}
	for i, p := range g.posts {
		r, err := g.record(p)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return nil, err
		}
		lines = append(lines, b.Bytes())
		if _, ok := p.flags["dup"]; ok {
			dups = append(dups, struct {
				line []byte
				at   int
			}{b.Bytes(), i + 4 + g.rng.IntN(6)})
		}
	}
	var out bytes.Buffer
	for i, l := range lines {
		out.Write(l)
		for _, d := range dups {
			if d.at == i {
				out.Write(d.line)
			}
		}
	}
	for _, d := range dups {
		if d.at >= len(lines) {
			return nil, errors.New("a dup flag on one of the last posts: move it earlier")
		}
	}
	return out.Bytes(), nil
}
