package mastodon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gomastodon "github.com/mattn/go-mastodon"
	"github.com/parleybot/parley"
)

// OOBRedirect is the out-of-band redirect URI: the server shows the
// authorization code instead of redirecting to a web page.
const OOBRedirect = "urn:ietf:wg:oauth:2.0:oob"

// LoginScopes are the scopes Parley asks for.
const LoginScopes = "read write"

// Login walks a person through creating an access token for the bot
// account on server, with the OAuth authorization-code flow and the
// out-of-band redirect (the password grant is disabled on many servers):
// it registers an application (POST /api/v1/apps, scopes "read write"),
// prints the authorization URL to out, reads the code the person pastes
// on in, exchanges it for a token (POST /oauth/token), checks the token
// (verify_credentials) and prints how to put it in the environment. It
// returns the token. client may be nil (a client with a 30s timeout).
//
// Errors: EINVALID for a bad server URL, an empty code or a code the
// server refuses; EUNAVAILABLE when the server cannot be reached.
func Login(ctx context.Context, server string, in io.Reader, out io.Writer, client *http.Client) (token string, err error) {
	base, err := Config{Server: server}.ServerURL()
	if err != nil {
		return "", err
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	app, err := gomastodon.RegisterApp(ctx, &gomastodon.AppConfig{
		Client:       *client,
		Server:       base.String(),
		ClientName:   "Parley",
		RedirectURIs: OOBRedirect,
		Scopes:       LoginScopes,
		Website:      "https://github.com/parleybot/parley",
	})
	if err != nil {
		return "", classify("registering the Parley application on "+base.Host, stripURL(err))
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return "", parley.Errorf(parley.EUNAVAILABLE, "mastodon: %s registered the application but sent no client id or secret", base.Host)
	}
	auth := *base
	auth.Path += "/oauth/authorize"
	auth.RawQuery = url.Values{
		"client_id":     {app.ClientID},
		"scope":         {LoginScopes},
		"redirect_uri":  {OOBRedirect},
		"response_type": {"code"},
	}.Encode()
	fmt.Fprintf(out, "1. Open this address in a browser, log in as the bot account and authorize Parley:\n\n   %s\n\n2. Paste the authorization code shown there and press Enter: ", auth.String())

	code, err := readLine(in)
	if err != nil {
		return "", parley.Errorf(parley.EINVALID, "mastodon login: reading the authorization code: %w", err)
	}
	if code == "" {
		return "", parley.Errorf(parley.EINVALID, "mastodon login: no authorization code given")
	}

	mc := gomastodon.NewClient(&gomastodon.Config{Server: base.String(), ClientID: app.ClientID, ClientSecret: app.ClientSecret})
	mc.Client = *client
	if err := mc.GetUserAccessToken(ctx, code, OOBRedirect); err != nil {
		return "", classify("exchanging the authorization code for a token (paste the code exactly, it works once)", stripURL(err))
	}
	token = mc.Config.AccessToken
	if token == "" {
		return "", parley.Errorf(parley.EUNAVAILABLE, "mastodon: %s sent no access token", base.Host)
	}
	acc, err := mc.GetAccountCurrentUser(ctx)
	if err != nil {
		return "", classify("checking the new token", stripURL(err))
	}
	fmt.Fprintf(out, "\nLogged in as @%s on %s.\n\nPut the token in Parley's environment, e.g.\n\n   export %s=%s\n\nor write it to a file readable only by Parley and set %s_FILE to its path.\nThen add to the config file:\n\n   connectors:\n     mastodon:\n       - server: %s\n         token_env: %s\n",
		acc.Acct, base.Host, DefaultTokenEnv, token, DefaultTokenEnv, base.String(), DefaultTokenEnv)
	return token, nil
}

// readLine reads one line from in (synchronously: an interactive read
// cannot be cancelled, and Ctrl-C ends the command anyway).
func readLine(in io.Reader) (string, error) {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil
	}
	return strings.TrimSpace(line), err
}
