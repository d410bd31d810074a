package discord

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestMarkdownToText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain text stays", "plain text stays"},
		{"**bold** and *italic* and _also_ and __under__", "bold and italic and also and under"},
		{"***both*** ~~gone~~ ||secret||", "both gone secret"},
		{"**bold with *nested* italic**", "bold with nested italic"},
		{"2 * 3 * 4 = 24", "2 * 3 * 4 = 24"},
		{"snake_case_name stays", "snake_case_name stays"},
		{"a lone ~ and | stay", "a lone ~ and | stay"},
		{"unclosed **bold", "unclosed **bold"},
		{"`code **not bold**` after", "code **not bold** after"},
		{"``double `tick` code``", "double `tick` code"},
		{"```go\nfmt.Println(\"*x*\")\n```", "fmt.Println(\"*x*\")"},
		{"before ```inline block``` after", "before inline block after"},
		{"> quoted **line**\nnot quoted", "quoted line\nnot quoted"},
		{">>> all of\nthis is quoted", "all of\nthis is quoted"},
		{"# Title\n## Sub\n### Third\n-# small print", "Title\nSub\nThird\nsmall print"},
		{"#hashtag is not a heading", "#hashtag is not a heading"},
		{"- item one\n- item **two**", "- item one\n- item two"},
		{"[our site](https://acme.example/help)", "our site (https://acme.example/help)"},
		{"[https://acme.example](https://acme.example)", "https://acme.example"},
		{"[masked](<https://acme.example/x>)", "masked (https://acme.example/x)"},
		{"[not a link](javascript:alert)", "[not a link](javascript:alert)"},
		{"see <https://acme.example/a?b=c>", "see https://acme.example/a?b=c"},
		{"love it <:rocket:123456789012345678> <a:party:42>", "love it :rocket: :party:"},
		{`not \*bold\* \_x\_ \\ \<`, `not *bold* _x_ \ <`},
		{"<@123> and <#456> stay for ResolveMentions", "<@123> and <#456> stay for ResolveMentions"},
		{"émoji 🚀 **unicode** ünïcödé", "émoji 🚀 unicode ünïcödé"},
		{"  **trimmed**  ", "trimmed"},
	} {
		assert.Equal(t, tc.want, MarkdownToText(tc.in), "input %q", tc.in)
	}
}

func TestResolveMentions(t *testing.T) {
	t.Parallel()
	names := map[string]string{"user:1": "Ana", "role:2": "Support", "channel:3": "general"}
	lookup := func(kind, id string) string { return names[kind+":"+id] }
	for _, tc := range []struct{ in, want string }{
		{"<@1> hi", "@Ana hi"},
		{"<@!1> hi", "@Ana hi"},
		{"<@&2> please", "@Support please"},
		{"see <#3>", "see #general"},
		{"<@99> unknown", "@99 unknown"},
		{"run </deploy now:123>", "run /deploy now"},
		{"at <t:1700000000:f>", "at 2023-11-14 22:13 UTC"},
		{"on <t:1700000000:D>", "on 2023-11-14"},
		{"at <t:1700000000>", "at 2023-11-14 22:13 UTC"},
		{"<notamention> <@abc>", "<notamention> <@abc>"},
	} {
		assert.Equal(t, tc.want, ResolveMentions(tc.in, lookup), "input %q", tc.in)
	}
	assert.Equal(t, "@1", ResolveMentions("<@1>", nil))
}

// FuzzMarkdownToText checks that no input panics, that valid UTF-8 stays
// valid, that the text never grows, and that text without markdown
// characters is unchanged.
func FuzzMarkdownToText(f *testing.F) {
	for _, s := range []string{
		"**bold** _it_ ~~s~~ ||sp||", "```go\ncode\n```", "> q\n>>> rest", "[a](https://b)",
		"<:e:1> <https://x>", `\*esc\*`, "***", "__*_*__", "[[](https://", "`", "a_b_c", "# h\n-# s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := MarkdownToText(in)
		if len(out) > len(in) {
			t.Fatalf("output longer than input: %q -> %q", in, out)
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of valid input: %q -> %q", in, out)
		}
		if !strings.ContainsAny(in, "*_~|`[<>#-\\") && out != in {
			t.Fatalf("text without markdown changed: %q -> %q", in, out)
		}
		_ = ResolveMentions(out, func(string, string) string { return "x" })
	})
}
