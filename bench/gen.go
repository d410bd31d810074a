package bench

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/replay"
)

// samplePosts is the demo sample's posts, the raw material of the
// generator.
type post struct {
	text, lang, platform string
}

func samplePosts() ([]post, error) {
	var out []post
	for _, line := range strings.Split(string(replay.Sample()), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := replay.ParseLine([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("demo sample: %w", err)
		}
		out = append(out, post{text: m.Text, lang: m.Lang, platform: m.Platform})
	}
	if len(out) == 0 {
		return nil, errors.New("demo sample is empty")
	}
	return out, nil
}

// gen makes realistic synthetic mentions, deterministically from a
// seed: the sample's texts varied in length and emoji; authors drawn from
// a Zipf law (a long tail of people seen once, a few regulars who post a
// lot); 20% replies to a recent post on the same platform, which form
// threads; 1% re-deliveries of a recent post (duplicates).
type gen struct {
	r       *rand.Rand
	zipf    *rand.Zipf
	base    []post
	authors int
	seq     int64
	start   time.Time
	// recent posts per platform, a ring, for replies and duplicates.
	recent map[string]*ring
}

type ring struct {
	ms []parley.Mention
	at int
}

func (r *ring) add(m parley.Mention) {
	if len(r.ms) < 1024 {
		r.ms = append(r.ms, m)
		return
	}
	r.ms[r.at] = m
	r.at = (r.at + 1) % len(r.ms)
}

var (
	firstNames = []string{"Ana", "Bo", "Chidi", "Dara", "Eli", "Fatou", "Gus", "Hana", "Ivo", "Jules", "Kai", "Lena",
		"Mo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sam", "Tomás", "Uma", "Vik", "Wren", "Yusuf", "Zoe"}
	emojis = []string{"🛹", "🔥", "😍", "🙏", "😡", "💀", "👏", "🤙", "😭", "✨", "🌊", "👀", "💯", "🥲"}
	extras = []string{"anyone else?", "just saying", "10/10 would skate again", "#skateboarding", "#sk8",
		"lol", "smh", "thanks in advance", "pls help", "update: still nothing", "cc @tidewater",
		"best purchase this year", "never again", "worth every cent", "is this normal?", "(sorry for the rant)",
		"https://example.com/pics/123", "DM'd you", "ordered on the 3rd", "love this community"}
)

func newGen(base []post, n int, seed int64) *gen {
	r := rand.New(rand.NewSource(seed))
	authors := max(50, n/3)
	return &gen{
		r:       r,
		zipf:    rand.NewZipf(r, 1.1, 10, uint64(authors-1)),
		base:    base,
		authors: authors,
		start:   time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC),
		recent:  map[string]*ring{parley.PlatformMastodon: {}, parley.PlatformDiscord: {}},
	}
}

// next returns the next mention.
func (g *gen) next() parley.Mention {
	r := g.r
	// 1%: a post delivered again (a reconnect, an overlapping poll).
	if g.seq > 0 && r.Intn(100) == 0 {
		ring := g.recent[parley.PlatformMastodon]
		if r.Intn(2) == 0 || len(ring.ms) == 0 {
			ring = g.recent[parley.PlatformDiscord]
		}
		if len(ring.ms) > 0 {
			return ring.ms[r.Intn(len(ring.ms))]
		}
	}
	g.seq++
	k := int(g.zipf.Uint64()) //nolint:gosec // G115: zipf draws at most the number of people
	// A person belongs to one platform: three in five are on Mastodon.
	platform := parley.PlatformMastodon
	if k%5 >= 3 {
		platform = parley.PlatformDiscord
	}
	post := g.base[r.Intn(len(g.base))]
	m := parley.Mention{
		Platform:   platform,
		ExternalID: strconv.FormatInt(110_000_000_000_000_000+g.seq*7919, 10),
		Author:     author(platform, k),
		Text:       g.vary(post.text),
		CreatedAt:  g.start.Add(time.Duration(g.seq)*20*time.Second + time.Duration(r.Intn(20_000))*time.Millisecond),
	}
	ring := g.recent[platform]
	// 20%: a reply to a recent post on the same platform.
	if r.Intn(5) == 0 && len(ring.ms) > 0 {
		parent := ring.ms[len(ring.ms)-1-min(len(ring.ms)-1, int(r.ExpFloat64()*20))]
		m.InReplyTo = parent.ExternalID
		m.Channel = parent.Channel
		if r.Intn(2) == 0 {
			m.Text = "@" + parent.Author.Handle + " " + m.Text
		}
	}
	switch platform {
	case parley.PlatformMastodon:
		m.Visibility = "public"
		m.Lang = post.lang
		if m.Lang == "" {
			m.Lang = "en"
		}
		m.URL = "https://skate.social/@" + m.Author.Handle + "/" + m.ExternalID
	default:
		if m.Channel == "" {
			m.Channel = []string{"#general", "#support", "#show-off"}[r.Intn(3)]
		}
		m.URL = "https://discord.com/channels/1209338410067415040/1453175341059667266/" + m.ExternalID
	}
	ring.add(m)
	return m
}

// vary changes a sample text the way real posts differ: longer, shorter,
// two thoughts in one post, more or fewer emoji.
func (g *gen) vary(text string) string {
	r := g.r
	switch n := r.Intn(10); {
	case n < 4: // as written
	case n < 6:
		text += " " + extras[r.Intn(len(extras))]
	case n < 7:
		text += " " + g.base[r.Intn(len(g.base))].text
	case n < 8:
		if words := strings.Fields(text); len(words) > 3 {
			text = strings.Join(words[:2+r.Intn(len(words)-2)], " ")
		}
	case n < 9:
		text = emojis[r.Intn(len(emojis))] + " " + text
	default:
		text = text + " " + g.base[r.Intn(len(g.base))].text + " " + extras[r.Intn(len(extras))]
	}
	if r.Intn(4) == 0 {
		e := emojis[r.Intn(len(emojis))]
		text += " " + strings.Repeat(e, 1+r.Intn(3))
	}
	return text
}

// author is person k of a platform, always the same.
func author(platform string, k int) parley.Person {
	h := uint64(k)*0x9E3779B97F4A7C15 + 1 //nolint:gosec // G115: a hash; k >= 0 and wrapping is intended
	h ^= h >> 31
	name := firstNames[h%uint64(len(firstNames))]
	// Followers spread over orders of magnitude; a few have tens of
	// thousands.
	followers := int(math.Exp(float64(h>>20%1000)/1000*11)) - 1
	p := parley.Person{
		ExternalID: strconv.Itoa(100_000 + k),
		Name:       name,
		Followers:  followers,
	}
	if platform == parley.PlatformMastodon {
		p.Handle = strings.ToLower(name) + strconv.Itoa(k) + "@skate.social"
	} else {
		p.Handle = strings.ToLower(name) + strconv.Itoa(k)
		p.Followers = 0
	}
	return p
}
