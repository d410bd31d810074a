package discord

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley"
)

func env0(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func messages(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestConfigYAML(t *testing.T) {
	t.Parallel()
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(`
token_env: MY_TOKEN
guilds: ["1"]
channels: ["2", "3"]
keywords: [acme]
staff_channel: "4"
staff_roles: ["5"]
api_url: http://127.0.0.1:9
`), &c))
	assert.Equal(t, Config{TokenEnv: "MY_TOKEN", Guilds: []string{"1"}, Channels: []string{"2", "3"}, Keywords: []string{"acme"},
		StaffChannel: "4", StaffRoles: []string{"5"}, APIURL: "http://127.0.0.1:9"}, c)
	assert.Empty(t, c.Validate(env0(map[string]string{"MY_TOKEN": "t"})))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := env0(map[string]string{DefaultTokenEnv: "secret-token"})
	assert.Empty(t, Config{}.Validate(ok), "an empty section listens for mentions and DMs")

	errs := Config{}.Validate(env0(nil))
	require.Len(t, errs, 1)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(errs[0]))
	assert.Contains(t, errs[0].Error(), "PARLEY_DISCORD_TOKEN is not set")

	errs = Config{TokenEnv: "OTHER"}.Validate(ok)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "environment variable OTHER is not set")

	errs = Config{StaffChannel: "123"}.Validate(ok)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "connectors.discord.staff_roles: staff_channel is set but staff_roles is empty")

	errs = Config{StaffRoles: []string{"1"}}.Validate(ok)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "staff_roles is set but staff_channel is empty")

	errs = Config{
		Channels:     []string{"general", "12", "12"},
		Guilds:       []string{""},
		Keywords:     []string{"acme", " "},
		StaffChannel: "#staff",
		StaffRoles:   []string{"Mods"},
		APIURL:       "ftp://x",
	}.Validate(ok)
	all := messages(errs)
	for _, want := range []string{
		`connectors.discord.channels[0]: "general" is not a Discord id`,
		"connectors.discord.channels[2]: 12 is listed twice",
		`connectors.discord.guilds[0]: "" is not a Discord id`,
		"connectors.discord.keywords[1]: empty keyword",
		`connectors.discord.staff_channel: "#staff" is not a Discord channel id`,
		`connectors.discord.staff_roles[0]: "Mods" is not a Discord id`,
		`connectors.discord.api_url: "ftp://x" is not an absolute http(s) URL`,
	} {
		assert.Contains(t, all, want)
	}
	assert.Len(t, errs, 7)

	errs = Config{Keywords: []string{"acme"}}.Validate(ok)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "channels is empty")
	assert.NotContains(t, all, "secret-token", "the token never shows")
}

func TestConfigTokenFromFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(file, []byte("  file-token\n"), 0o600))
	c := Config{}
	tok, err := c.Token(env0(map[string]string{DefaultTokenEnv + "_FILE": file}))
	require.NoError(t, err)
	assert.Equal(t, "file-token", tok)

	tok, err = c.Token(env0(map[string]string{DefaultTokenEnv: "env-token", DefaultTokenEnv + "_FILE": file}))
	require.NoError(t, err)
	assert.Equal(t, "env-token", tok, "the variable wins")

	errs := c.Validate(env0(map[string]string{DefaultTokenEnv + "_FILE": filepath.Join(dir, "missing")}))
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "reading the token file named by PARLEY_DISCORD_TOKEN_FILE")

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = c.Token(env0(map[string]string{DefaultTokenEnv + "_FILE": empty}))
	assert.ErrorContains(t, err, "is empty")
}

// api_url: every REST request goes to the configured base (path prefix
// kept), and the bot token is sent with a "Bot " prefix.
func TestAPIURLRewritesRequests(t *testing.T) {
	t.Parallel()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"77","type":1}`))
	}))
	defer srv.Close()
	c, err := New(Config{APIURL: srv.URL + "/proxy/api/v9/"}, "tok", nil, nil)
	require.NoError(t, err)
	_, err = c.Send(context.Background(), parley.Outgoing{Draft: parley.Draft{ID: 1, Text: "hi"}, To: parley.Person{ExternalID: "5"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"/proxy/api/v9/users/@me/channels Bot tok", "/proxy/api/v9/channels/77/messages Bot tok"}, got)
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	_, err := New(Config{}, "", nil, nil)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = New(Config{APIURL: "::"}, "t", nil, nil)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = New(Config{StaffChannel: "1"}, "t", nil, nil)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	c, err := New(Config{}, "t", nil, nil)
	require.NoError(t, err)
	err = c.Run(context.Background(), nil)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "Run needs a store")
}
