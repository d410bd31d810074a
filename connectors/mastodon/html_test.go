package mastodon

import (
	"runtime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

var htmlCases = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"plain", "hello", "hello"},
	{"paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo"},
	{"br", "<p>line one<br>line two<br />line three</p>", "line one\nline two\nline three"},
	{"double br", "<p>a<br><br>b</p>", "a\n\nb"},
	{"entities", "<p>Fish &amp; chips &lt;3 &#39;quoted&#39; &quot;x&quot; caf&eacute; &#x1F600;</p>", "Fish & chips <3 'quoted' \"x\" café 😀"},
	{"nbsp", "<p>a&nbsp;b</p>", "a b"},
	{"whitespace collapses", "<p>  a \n\t b  </p>\n\n<p>  c</p>", "a b\n\nc"},
	{"mastodon mention", `<p><span class="h-card" translate="no"><a href="https://mastodon.social/@Gargron" class="u-url mention">@<span>Gargron</span></a></span> hi</p>`, "@Gargron hi"},
	{"hashtag", `<p>love <a href="https://x.example/tags/acme" class="mention hashtag" rel="tag">#<span>Acme</span></a>!</p>`, "love #Acme!"},
	{"shortened link", `<p>see <a href="https://example.com/a/very/long/path/to/something" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/long/path/t</span><span class="invisible">o/something</span></a> now</p>`, "see https://example.com/a/very/long/path/to/something now"},
	{"truncated label", `<a href="https://example.com/a/b/c">example.com/a/…</a>`, "https://example.com/a/b/c"},
	{"link with other text", `<p>read <a href="https://example.com/post">our post</a>.</p>`, "read our post (https://example.com/post)."},
	{"link same text", `<a href="https://example.com/">https://example.com</a>`, "https://example.com/"},
	{"empty link", `<p>x <a href="https://example.com/img.png"></a></p>`, "x https://example.com/img.png"},
	{"non-http link", `<a href="mailto:a@b.c">write us</a>`, "write us"},
	{"script dropped", "<p>a</p><script>alert(1)</script><style>p{}</style><p>b</p>", "a\n\nb"},
	{"comment", "a<!-- hidden -->b", "ab"},
	{"unterminated comment", "a<!-- hidden", "a"},
	{"literal lt", "a < b and c<d", "a < b and c<d"},
	{"unterminated tag", "a <b c", "a <b c"},
	{"list", "<ul><li>one</li><li>two</li></ul><p>after</p>", "- one\n- two\n\nafter"},
	{"blockquote", "<p>quote:</p><blockquote><p>wise words</p></blockquote>", "quote:\n\nwise words"},
	{"pre keeps lines", "<pre>a\nb</pre>", "a\nb"},
	{"uppercase tags", "<P>A<BR>B</P>", "A\nB"},
	{"attr quoting", `<a href='https://example.com/q?a=1&amp;b=2' class=x>link</a>`, "link (https://example.com/q?a=1&b=2)"},
	{"img alt", `<p>emoji <img alt=":blobcat:" src="x.png"> here</p>`, "emoji :blobcat: here"},
	{"invalid utf8", "a\xffb", "a\uFFFDb"},
	{"cw-like", "<p>spoilers</p>", "spoilers"},
	{"akkoma", `<span class="h-card"><a class="u-url mention" data-user="x" href="https://ak.example/users/bob" rel="ugc">@<span>bob</span></a></span> hi<br/>there`, "@bob hi\nthere"},
}

func TestHTMLToText(t *testing.T) {
	for _, tc := range htmlCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, HTMLToText(tc.in))
		})
	}
}

func FuzzHTMLToText(f *testing.F) {
	for _, tc := range htmlCases {
		f.Add(tc.in)
	}
	f.Add(`<a href="https://x"><a href="https://y">nested</a></a>`)
	f.Add(strings.Repeat("<br>", 100) + "x")
	f.Add(`<p><a href="https://example.com/` + strings.Repeat("x", 200) + `">` + strings.Repeat("<span>", 50) + "y")
	f.Fuzz(func(t *testing.T, in string) {
		out := HTMLToText(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output %q", out)
		}
		if strings.TrimFunc(out, unicode.IsSpace) != out {
			t.Fatalf("output has surrounding white space: %q", out)
		}
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("more than one blank line: %q", out)
		}
		if len(out) > 4*len(in)+16 {
			t.Fatalf("output %d bytes from %d bytes of input", len(out), len(in))
		}
		if again := HTMLToText(out); !utf8.ValidString(again) {
			t.Fatalf("second pass invalid")
		}
	})
}

// hostileHTML are inputs that took seconds to minutes with a quadratic
// parser: each is a unit repeated; n is how many times for the large case.
var hostileHTML = []struct {
	name, prefix, unit, suffix string
	n                          int
}{
	{"open tags", "", "<a ", "", 100000},
	{"open quotes", "", `<a b="`, "", 50000},
	{"open anchors", "", `<a href="https://x.y/">`, "", 50000},
	{"close anchors", strings.Repeat(`<a href="https://x.y/">x`, 40), "</a>", "", 50000},
	{"line breaks", "", "a<br>", "", 100000},
	{"nested body", strings.Repeat(`<a href="https://e.x/">`, 40), "word ", strings.Repeat("</a>", 40), 100000},
}

// allocated is the bytes HTMLToText allocates converting in.
func allocated(in string) (uint64, string) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := HTMLToText(in)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, out
}

// TestHTMLToTextIsLinear guards against hostile content: ten times the
// input costs about ten times the work. The work is measured as bytes
// allocated (every token, attribute and output byte allocates), not as
// time, so the test does not depend on the machine's load; the speed is
// in BenchmarkHTMLToTextHostile.
func TestHTMLToTextIsLinear(t *testing.T) {
	for _, c := range hostileHTML {
		small := c.prefix + strings.Repeat(c.unit, c.n/10) + c.suffix
		large := c.prefix + strings.Repeat(c.unit, c.n) + c.suffix
		s, outSmall := allocated(small)
		l, outLarge := allocated(large)
		assert.True(t, utf8.ValidString(outSmall) && utf8.ValidString(outLarge), c.name)
		ratio := float64(l) / float64(s)
		assert.Less(t, ratio, 20.0, "%s: %d bytes allocated for %d bytes of input, %d for %d", c.name, s, len(small), l, len(large))
	}
}

func BenchmarkHTMLToTextHostile(b *testing.B) {
	for _, c := range hostileHTML {
		in := c.prefix + strings.Repeat(c.unit, c.n) + c.suffix
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				HTMLToText(in)
			}
		})
	}
}
