package digest_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/digest"
)

func digestHTMLOptions(images bool) digest.HTMLOptions {
	return digest.HTMLOptions{ChartImages: images}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./digest -run %s -update to create it", t.Name())
	if string(want) != got {
		// Show the first differing line; the whole file is too long.
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		for i := 0; i < len(wl) && i < len(gl); i++ {
			if wl[i] != gl[i] {
				t.Fatalf("%s differs at line %d:\nwant: %s\ngot:  %s\n(run with -update if the change is intended)", path, i+1, wl[i], gl[i])
			}
		}
		t.Fatalf("%s differs in length: want %d lines, got %d (run with -update if intended)", path, len(wl), len(gl))
	}
}

func TestGoldenMarkdown(t *testing.T) {
	golden(t, "digest.md", fixtureDigest(t).Markdown())
}

func TestGoldenText(t *testing.T) {
	golden(t, "digest.txt", fixtureDigest(t).Text())
}

func TestGoldenHTML(t *testing.T) {
	page, err := fixtureDigest(t).HTML(digestHTMLOptions(false))
	require.NoError(t, err)
	golden(t, "digest.html", page)
}

// checkXML parses s as XML to the end.
func checkXML(t *testing.T, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	depth, elems := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "SVG is not well-formed XML:\n%s", s)
		switch tok.(type) {
		case xml.StartElement:
			depth++
			elems++
		case xml.EndElement:
			depth--
		}
	}
	assert.Zero(t, depth)
	assert.Greater(t, elems, 10, "a chart has more than a few elements")
}

var svgRE = regexp.MustCompile(`(?s)<svg .*?</svg>`)

func TestSVGIsXML(t *testing.T) {
	d := fixtureDigest(t)
	// Names with characters XML cares about end up in the legend.
	d.Volume.Platforms[1].Platform = `a<b>&"c'`
	d.Volume.Days[0].ByPlatform[`a<b>&"c'`] = 1
	svgs := d.SVGs()
	require.Len(t, svgs, 3)
	for name, s := range svgs {
		t.Run(name, func(t *testing.T) {
			assert.True(t, strings.HasPrefix(s, `<svg xmlns="http://www.w3.org/2000/svg"`))
			checkXML(t, s)
		})
	}
	// The same SVG, inline in the HTML page.
	page, err := d.HTML(digestHTMLOptions(false))
	require.NoError(t, err)
	found := svgRE.FindAllString(page, -1)
	require.Len(t, found, 3)
	for _, s := range found {
		checkXML(t, s)
	}
	assert.Contains(t, page, "A&lt;b&gt;&amp;&#34;c&#39;")
}

func TestHTMLForEmailUsesImages(t *testing.T) {
	d := fixtureDigest(t)
	page, err := d.HTML(digestHTMLOptions(true))
	require.NoError(t, err)
	assert.NotContains(t, page, "<svg")
	for _, name := range []string{"volume", "sentiment", "response"} {
		assert.Contains(t, page, `<img src="cid:`+name+`.png"`)
	}
	imgs, err := d.ChartImages()
	require.NoError(t, err)
	require.Len(t, imgs, 3)
	for _, img := range imgs {
		assert.True(t, bytes.HasPrefix(img.PNG, []byte("\x89PNG\r\n\x1a\n")), img.Name)
		assert.Greater(t, len(img.PNG), 5000, "%s has content", img.Name)
	}
}

func TestMarkdownEscapesPeoplesWords(t *testing.T) {
	d := fixtureDigest(t)
	d.Sentiment.Threads[0].Post.Text = "**bold** [x](http://evil) `code` <@everyone> _it_"
	md := d.Markdown()
	assert.Contains(t, md, `\*\*bold\*\* \[x\](http://evil) \`+"`"+`code\`+"`"+` \<@everyone> \_it\_`)
	txt := d.Text()
	assert.Contains(t, txt, "**bold** [x](http://evil) `code` <@everyone> _it_")
}
