package main_test

// Hugo tests (issue 10): real Hugo sites built from xlate's outputs, read
// back through layouts that print, for every page, what Hugo made of it
// (title, dates, draft, terms, summary, translations) as JSON.
//
//   - TestHugoMonolingual: the corpus translated into a site; Hugo reads each
//     page as it reads the original, with an English title and the TL;DR
//     as its summary.
//   - TestHugoMultilingual: a zh/en site translated in place (--suffix .en);
//     no duplicate target path, each original paired with its English page;
//     TestHugoMultilingualHarness runs its checks on a hand-written correct
//     site.
//   - TestHugoInPlaceSecondRun: the same in-place run again writes nothing.
//   - TestHugoTxtNames: an input's name (.md, .txt, stdin) does not change
//     the output.
//
// They need the hugo binary (Debian's hugo, 0.111, is what CI installs):
// without it they skip, loudly, or fail when CI=true. A site build fails
// the test on any WARN or ERROR line Hugo prints; sites are built with
// --printPathWarnings, without which Hugo 0.111 does not report duplicate
// target paths, and with drafts, future and expired pages included, so every
// page is rendered and can be compared.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/lang"
)

// hugoTimeout bounds one site build.
const hugoTimeout = 3 * time.Minute

var hugoSkipNotice sync.Once

// needHugo returns the path of the hugo binary. Without one on PATH the test
// is skipped with a message saying so, also printed once on stderr (which go
// test shows with -v, or when run without package arguments), or, under CI
// (CI=true), fails.
func needHugo(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("hugo")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("hugo is not on PATH, and CI=true: the Hugo site tests must run in CI; install it (apt-get install -y hugo, as .ci/run does)")
	}
	msg := "hugo is not on PATH, so the Hugo site tests did NOT run; install it (apt-get install -y hugo, as .ci/run does)"
	hugoSkipNotice.Do(func() { fmt.Fprintf(os.Stderr, "\n*** SKIPPED: %s ***\n\n", msg) })
	t.Skipf("SKIPPED: %s", msg)
	return ""
}

// hugoShared is one fake server and one translation cache for the Hugo
// tests: the corpus is translated once and later runs are served from the
// cache.
var hugoShared struct {
	once  sync.Once
	srv   *fakeopenai.Server
	cache string
	err   error
}

// hugoXlateEnv is an environment for xlate on the shared fake server and
// cache.
func hugoXlateEnv(t *testing.T) []string {
	t.Helper()
	hugoShared.once.Do(func() {
		// Closed when the test binary exits; the cache goes with xlateBin's
		// directory in TestMain.
		hugoShared.srv, hugoShared.err = fakeopenai.Start(fakeopenai.Options{APIKey: testKey})
		hugoShared.cache = filepath.Join(filepath.Dir(xlateBin), "hugo-cache")
	})
	if hugoShared.err != nil {
		t.Fatal(hugoShared.err)
	}
	return env(t, hugoShared.srv, hugoShared.cache)
}

// hugoLayouts make Hugo print what it read: the home page of each language
// lists every page of the site (.Site.AllPages, all languages) as JSON, and
// every other page prints its own line of JSON. The summary is plainified
// but still HTML-escaped (entities).
var hugoLayouts = map[string]string{
	"layouts/partials/page.json.html": `
{{- $file := "" }}{{ with .File }}{{ $file = .Path }}{{ end -}}
{{- $tr := slice -}}
{{- range .Translations -}}
  {{- $f := "" }}{{ with .File }}{{ $f = .Path }}{{ end -}}
  {{- $tr = $tr | append (dict "file" $f "lang" .Lang "title" .Title "permalink" .RelPermalink) -}}
{{- end -}}
{{- return dict "kind" .Kind "file" $file "lang" .Lang "permalink" .RelPermalink
	"title" .Title "date" .Date "lastmod" .Lastmod "publishDate" .PublishDate "expiryDate" .ExpiryDate
	"draft" .Draft "tags" .Params.tags "categories" .Params.categories
	"summary" (.Summary | plainify) "originalTitle" .Params.original_title
	"translations" $tr -}}
`,
	"layouts/index.html": `
{{- $all := slice -}}
{{- range .Site.AllPages }}{{ $all = $all | append (partial "page.json.html" .) }}{{ end -}}
{{- dict "allPages" $all | jsonify }}
`,
	"layouts/_default/single.html": `{{ partial "page.json.html" . | jsonify }}` + "\n",
	"layouts/_default/list.html":   `{{ partial "page.json.html" . | jsonify }}` + "\n",
}

const (
	// hugoMonoConfig is a plain site: no setting that hides a warning.
	hugoMonoConfig = `baseURL = "https://example.org/"
title = "xlate hugo test"
`
	// hugoMultiConfig serves the Chinese originals at the root and their
	// English translations under /en/.
	hugoMultiConfig = `baseURL = "https://example.org/"
title = "xlate hugo test"
defaultContentLanguage = "zh"
[languages.zh]
weight = 1
languageName = "中文"
[languages.en]
weight = 2
languageName = "English"
`
)

// hugoNewSite makes a Hugo site with config and the JSON layouts, and an empty
// content/posts.
func hugoNewSite(t *testing.T, config string) string {
	t.Helper()
	site := hugoSiteDir(t)
	files := map[string]string{"config.toml": config}
	for k, v := range hugoLayouts {
		files[k] = v
	}
	for name, text := range files {
		hugoWriteFile(t, filepath.Join(site, name), text)
	}
	if err := os.MkdirAll(filepath.Join(site, "content", "posts"), 0o755); err != nil {
		t.Fatal(err)
	}
	return site
}

// hugoSiteDir is a new directory for a site: a temporary one, or, with
// XLATE_KEEP_SITES=DIR set, one under DIR that is kept for a look after the
// test (named after the test).
func hugoSiteDir(t *testing.T) string {
	t.Helper()
	keep := os.Getenv("XLATE_KEEP_SITES")
	if keep == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(keep, strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("site kept in %s", dir)
	return dir
}

func hugoWriteFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hugoCopyTree copies the files under src into dst (created), keeping the
// tree and the modification times.
func hugoCopyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, rel), b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(filepath.Join(dst, rel), fi.ModTime(), fi.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hugoPage is what the layouts print for one page.
type hugoPage struct {
	Kind, File, Lang, Permalink, Title string
	Date, Lastmod, PublishDate         string
	ExpiryDate                         string
	Draft                              bool
	Tags, Categories                   any
	Summary                            string // plainified .Summary, entities unescaped
	OriginalTitle                      any
	Translations                       []hugoRef
}

type hugoRef struct{ File, Lang, Title, Permalink string }

// hugoBuild runs hugo in site and returns its pages that come from a file,
// by content path (posts/a.md). Each WARN or ERROR line Hugo prints fails
// the test and is printed; so does a failed build.
func hugoBuild(t *testing.T, hugo, site string) map[string]hugoPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hugoTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, hugo, "--printPathWarnings", "--buildDrafts", "--buildFuture", "--buildExpired",
		"--cacheDir", t.TempDir())
	cmd.Dir = site
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + os.TempDir()}
	out, err := cmd.CombinedOutput()
	var bad []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "WARN") || strings.Contains(l, "ERROR") {
			bad = append(bad, "  "+l)
		}
	}
	if len(bad) > 0 {
		t.Errorf("hugo printed %d WARN/ERROR lines building %s:\n%s", len(bad), site, strings.Join(bad, "\n"))
	}
	if err != nil {
		t.Fatalf("hugo failed (%v) building %s:\n%s", err, site, out)
	}

	var home struct{ AllPages []hugoPage }
	b, err := os.ReadFile(filepath.Join(site, "public", "index.html"))
	if err == nil {
		err = json.Unmarshal(b, &home)
	}
	if err != nil {
		t.Fatalf("the home page lists no pages: %v\n%.300s", err, b)
	}
	pages := map[string]hugoPage{}
	for _, p := range home.AllPages {
		if p.File == "" {
			continue // home, a section without _index.md, a taxonomy
		}
		p.Summary = html.UnescapeString(p.Summary)
		pages[p.File] = p
		// The page's own output is its own: not overwritten by another
		// page with the same target path.
		if p.Kind != "page" || !strings.HasSuffix(p.Permalink, "/") {
			continue
		}
		rel, err := url.PathUnescape(p.Permalink)
		if err != nil {
			t.Errorf("%s: .RelPermalink %q: %v", p.File, p.Permalink, err)
			continue
		}
		var own hugoPage
		b, err := os.ReadFile(filepath.Join(site, "public", filepath.FromSlash(rel), "index.html"))
		if err == nil {
			err = json.Unmarshal(b, &own)
		}
		switch {
		case err != nil:
			t.Errorf("%s: its page public%sindex.html: %v", p.File, rel, err)
		case own.File != p.File:
			t.Errorf("%s: its page public%sindex.html is that of %s (the same target path)", p.File, rel, own.File)
		}
	}
	return pages
}

// hugoHasHan reports whether s has a Han character.
func hugoHasHan(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
}

// hugoSource is an original: its path and bytes.
type hugoSource struct {
	name string
	data []byte
}

// hugoCheckTitle: Hugo's title of an output page is English and never
// empty: an untitled original (plain text whose first line does not read
// like a title) gets one from its summary or its first translated sentence.
func hugoCheckTitle(t *testing.T, p hugoPage, src hugoSource) {
	t.Helper()
	switch {
	case hugoHasHan(p.Title):
		t.Errorf("%s: Hugo's .Title is %q: want English", p.File, p.Title)
	case strings.TrimSpace(p.Title) == "":
		t.Errorf("%s: Hugo's .Title is empty (original %s): every page needs a title to show in lists", p.File, src.name)
	}
}

// hugoCheckSummary: Hugo's .Summary of an output page is the front matter's
// summary (the TL;DR sentence), it is English, and xlate added no
// <!--more--> divider (which Hugo 0.111 prefers to the summary key). An
// article with nothing to summarise may have no summary key; then Hugo's
// summary (made from the content) must be English only for the English
// layout (english).
func hugoCheckSummary(t *testing.T, p hugoPage, outFile string, src hugoSource, english bool) {
	t.Helper()
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Errorf("%s: %v", p.File, err)
		return
	}
	fm, err := hugoFrontMatter(b)
	if err != nil {
		t.Errorf("%s: front matter: %v", p.File, err)
		return
	}
	want, _ := fm["summary"].(string)
	switch {
	case strings.TrimSpace(want) == "" && hugoHasText(src):
		t.Errorf("%s: front matter summary = %#v: want the TL;DR sentence", p.File, fm["summary"])
	case strings.TrimSpace(want) == "":
		// Nothing to summarise (an article of images): Hugo makes the
		// summary from the content, English only in the English layout.
	case hugoPlainText(p.Summary) != hugoPlainText(want):
		t.Errorf("%s: Hugo's .Summary is not the front matter's summary:\n  .Summary: %.300q\n  summary:  %.300q", p.File, p.Summary, want)
	}
	if hugoHasHan(p.Summary) && (english || strings.TrimSpace(want) != "") {
		t.Errorf("%s: Hugo's .Summary has Chinese (front matter summary %#v): %.200q", p.File, fm["summary"], p.Summary)
	}
	if n, m := bytes.Count(b, []byte("<!--more-->")), bytes.Count(src.data, []byte("<!--more-->")); n > m {
		t.Errorf("%s: xlate wrote a <!--more--> divider (%d in the output, %d in the original)", p.File, n, m)
	}
}

// hugoTypographic undoes what Hugo's markdown (goldmark's typographer) makes
// of ASCII punctuation, so a rendered summary compares with its source.
var hugoTypographic = strings.NewReplacer("“", `"`, "”", `"`, "‘", "'", "’", "'", "…", "...", "–", "--", "—", "---", "«", "<<", "»", ">>")

// hugoPlainText is s with typography undone and white space collapsed.
func hugoPlainText(s string) string {
	return strings.Join(strings.Fields(hugoTypographic.Replace(s)), " ")
}

// hugoHasText reports whether an original has text to translate, as xlate
// reads it.
func hugoHasText(src hugoSource) bool {
	a, err := article.Parse(src.data, article.SyntaxAuto)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(a.Segments(false), func(s article.Segment) bool { return lang.NeedsTranslation(s.Text) })
}

// hugoFrontMatter decodes a file's YAML (---), TOML (+++) or JSON ({) front
// matter, independently of xlate's own parser; nil when there is none.
func hugoFrontMatter(b []byte) (map[string]any, error) {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	m := map[string]any{}
	for _, d := range []struct {
		delim     string
		unmarshal func([]byte, any) error
	}{{"---", yaml.Unmarshal}, {"+++", toml.Unmarshal}} {
		first, rest, _ := bytes.Cut(b, []byte("\n"))
		if string(bytes.TrimRight(first, " \t\r")) != d.delim {
			continue
		}
		for off := 0; off < len(rest); {
			line, _, _ := bytes.Cut(rest[off:], []byte("\n"))
			if string(bytes.TrimRight(line, " \t\r")) == d.delim {
				return m, d.unmarshal(rest[:off], &m)
			}
			off += len(line) + 1
		}
		return nil, fmt.Errorf("%s front matter never closed", d.delim)
	}
	if bytes.HasPrefix(b, []byte("{")) {
		return m, json.NewDecoder(bytes.NewReader(b)).Decode(&m)
	}
	return nil, nil
}

// hugoComparePages: Hugo reads the same dates, draft state and terms from an
// output page as from its original.
func hugoComparePages(t *testing.T, orig, out hugoPage) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{".Date", out.Date, orig.Date},
		{".Lastmod", out.Lastmod, orig.Lastmod},
		{".PublishDate", out.PublishDate, orig.PublishDate},
		{".ExpiryDate", out.ExpiryDate, orig.ExpiryDate},
		{".Draft", out.Draft, orig.Draft},
		{".Params.tags", out.Tags, orig.Tags},
		{".Params.categories", out.Categories, orig.Categories},
		{".Params.original_title (the original's .Title)", out.OriginalTitle, orig.Title},
	} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Errorf("%s: Hugo reads %s = %#v; from the original %s: %#v", out.File, f.name, f.got, orig.File, f.want)
		}
	}
}

func hugoCorpusDir() string { return filepath.Join("testdata", "corpus") }

// TestHugoMonolingual translates the corpus into a site's content/posts
// (bilingual layout) and builds it next to a site of the originals.
func TestHugoMonolingual(t *testing.T) {
	hugo := needHugo(t)
	t.Parallel()
	environ := hugoXlateEnv(t)

	site := hugoNewSite(t, hugoMonoConfig)
	posts := filepath.Join(site, "content", "posts")
	if r := runXlate(t, environ, nil, "-q", "-o", posts, hugoCorpusDir()); r.code != 0 {
		t.Errorf("xlate -o %s %s: exit %d:\n%s", posts, hugoCorpusDir(), r.code, r.stderr)
	}
	origSite := hugoNewSite(t, hugoMonoConfig)
	hugoCopyTree(t, hugoCorpusDir(), filepath.Join(origSite, "content", "posts"))

	t.Log("building the site of the originals")
	origPages := hugoBuild(t, hugo, origSite)
	t.Log("building the site of the outputs")
	outPages := hugoBuild(t, hugo, site)

	type pair struct {
		out, orig hugoPage
		hasOrig   bool
		outFile   string
		src       hugoSource
	}
	var pairs []pair
	for _, f := range corpusFiles(t) {
		name := filepath.Base(f)
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, ok := outPages["posts/"+stem+".md"]
		if !ok {
			t.Errorf("%s: no page posts/%s.md in the built site (pages: %d)", name, stem, len(outPages))
			continue
		}
		orig, hasOrig := origPages["posts/"+name]
		if !hasOrig && strings.HasSuffix(name, ".md") {
			t.Errorf("%s: not a page of the originals' site", name)
		}
		pairs = append(pairs, pair{out, orig, hasOrig, filepath.Join(posts, stem+".md"), hugoSource{name, src}})
	}

	t.Run("front matter as Hugo reads it", func(t *testing.T) {
		n := 0
		for _, p := range pairs {
			if p.hasOrig {
				hugoComparePages(t, p.orig, p.out)
				n++
			}
		}
		t.Logf("%d pages compared with their originals", n)
	})
	t.Run("English title", func(t *testing.T) {
		for _, p := range pairs {
			hugoCheckTitle(t, p.out, p.src)
		}
	})
	t.Run("summary", func(t *testing.T) {
		for _, p := range pairs {
			hugoCheckSummary(t, p.out, p.outFile, p.src, false)
		}
	})
}

// hugoHandMade are Chinese originals for the multilingual site, by
// path under content/posts, covering the front matter keys and forms that
// decide where Hugo puts a page.
var hugoHandMade = map[string]string{
	"_index.md": `---
title: "文章"
---

这里是所有文章的列表。每篇文章都有中文原文和英文翻译。
`,
	"fixed-url.md": `---
title: "固定网址的文章"
date: 2024-01-01T08:00:00Z
tags: ["测试", "网址"]
url: /fixed-url/
---

这篇文章有一个固定的网址，英文版本不能和它占用同一个地址。

第二段说明：网址由作者在前置数据里指定，不随文件名变化。
`,
	"aliases.md": `---
title: "有别名的文章"
date: 2024-01-03T08:00:00Z
aliases: [/old-path/, /archive/2019/old-name.html]
---

这篇文章以前在别的地址，旧地址要跳转到这里。

第二段：每个旧地址都是一个别名。
`,
	"relative.md": `---
title: "相对网址的文章"
date: 2024-01-10T08:00:00Z
url: rel-url/
aliases: [old-rel]
---

这篇文章的网址和别名都是相对的，没有开头的斜线。

第二段：雨果会给相对的网址加上语言前缀。
`,
	"slug.md": `---
title: "自定义短名的文章"
date: 2024-01-04T08:00:00Z
slug: my-slug
categories: ["测试"]
---

这篇文章的网址用自定义的短名，而不是文件名。

第二段：中文和英文版本的短名相同，但在不同的语言目录下。
`,
	"json-blank.md": `{
  "title": "前置数据是多行JSON，后面有空行",
  "date": "2024-01-02",
  "tags": ["测试", "JSON"]
}

第一段：前置数据是多行的JSON对象，后面跟着一个空行。

第二段：正文从这里继续。
`,
	"json-noblank.md": `{
  "title": "前置数据是多行JSON，后面没有空行",
  "date": "2024-01-05"
}
第一段：前置数据是多行的JSON对象，后面紧跟正文。

第二段：正文从这里继续。
`,
	"json-oneline.md": `{"title": "标题", "date": "2024-01-02"}
第一段：前置数据只有一行JSON。

第二段：正文从这里继续。
`,
	"toml.md": `+++
title = "前置数据是TOML"
date = 2024-01-06T08:00:00Z
tags = ["测试", "TOML"]
draft = false
+++

第一段：前置数据用TOML格式书写。

第二段：正文从这里继续。
`,
	"named.zh.md": `---
title: "文件名里已经有语言"
date: 2024-01-07T08:00:00Z
---

这个文件的名字已经标明是中文，英文翻译应该叫做同名的英文文件。

第二段：正文从这里继续。
`,
	"bundle/index.md": `---
title: "页面包里的文章"
date: 2024-01-08T08:00:00Z
---

这篇文章是一个页面包的首页，翻译放在同一个目录里。

第二段：正文从这里继续。
`,
	"with-summary.md": `---
title: "原文有摘要的文章"
date: 2024-01-09T08:00:00Z
summary: "这是原文作者写的摘要。"
---

这篇文章的前置数据里有作者写的摘要，翻译后它要保留为原始摘要。

第二段：英文摘要由翻译工具写入。
`,
}

// hugoHandMadeEnglish are the English translations of hugoHandMade written
// by hand the way xlate --suffix .en --layout english is to write them
// (url and aliases under /en/, no <!--more-->, the original summary kept as
// original_summary), for TestHugoMultilingualHarness. The summaries have
// quotes, dashes and dots that Hugo's typographer changes.
var hugoHandMadeEnglish = map[string]string{
	"_index.en.md": `---
title: "Articles"
original_title: "文章"
summary: "The list of all articles -- each in Chinese and in English."
---

**TL;DR:** The list of all articles -- each in Chinese and in English.

This is the list of all articles. Each has its Chinese original and an English translation.
`,
	"fixed-url.en.md": `---
title: "An article with a fixed URL"
original_title: "固定网址的文章"
date: 2024-01-01T08:00:00Z
tags: ["测试", "网址"]
url: /en/fixed-url/
summary: "The article has a \"fixed\" URL... which the English version must not take."
---

**TL;DR:** The article has a "fixed" URL... which the English version must not take.

This article has a fixed URL; the English version must not take the same address.

Second paragraph: the author set the URL in the front matter.
`,
	"aliases.en.md": `---
title: "An article with aliases"
original_title: "有别名的文章"
date: 2024-01-03T08:00:00Z
aliases: [/en/old-path/, /en/archive/2019/old-name.html]
summary: "The article's old addresses redirect to it."
---

**TL;DR:** The article's old addresses redirect to it.

This article used to live elsewhere; the old addresses redirect here.
`,
	"relative.en.md": `---
title: "An article with a relative URL"
original_title: "相对网址的文章"
date: 2024-01-10T08:00:00Z
url: rel-url/
aliases: [old-rel]
summary: "Hugo puts a relative URL under the language."
---

**TL;DR:** Hugo puts a relative URL under the language.

This article's URL and alias are relative: no leading slash.
`,
	"slug.en.md": `---
title: "An article with its own slug"
original_title: "自定义短名的文章"
date: 2024-01-04T08:00:00Z
slug: my-slug
categories: ["测试"]
summary: "The URL uses the slug, not the file name."
---

**TL;DR:** The URL uses the slug, not the file name.

The URL of this article uses its own slug rather than the file name.
`,
	"json-blank.en.md": `{
  "title": "Multi-line JSON front matter, a blank line after it",
  "original_title": "前置数据是多行JSON，后面有空行",
  "date": "2024-01-02",
  "tags": ["测试", "JSON"],
  "summary": "JSON front matter over several lines."
}

**TL;DR:** JSON front matter over several lines.

First paragraph: the front matter is a JSON object over several lines.
`,
	"json-noblank.en.md": `{
  "title": "Multi-line JSON front matter, no blank line after it",
  "original_title": "前置数据是多行JSON，后面没有空行",
  "date": "2024-01-05",
  "summary": "JSON front matter right before the text."
}
**TL;DR:** JSON front matter right before the text.

First paragraph: the text follows the JSON object at once.
`,
	"json-oneline.en.md": `{"title": "Title", "original_title": "标题", "date": "2024-01-02", "summary": "JSON front matter on one line."}
**TL;DR:** JSON front matter on one line.

First paragraph: the front matter is one line of JSON.
`,
	"toml.en.md": `+++
title = "TOML front matter"
original_title = "前置数据是TOML"
date = 2024-01-06T08:00:00Z
tags = ["测试", "TOML"]
draft = false
summary = "Front matter in TOML."
+++

**TL;DR:** Front matter in TOML.

First paragraph: the front matter is TOML.
`,
	"named.en.md": `---
title: "The file name already has the language"
original_title: "文件名里已经有语言"
date: 2024-01-07T08:00:00Z
summary: "The English file of name.zh.md is name.en.md."
---

**TL;DR:** The English file of name.zh.md is name.en.md.

This file's name says it is Chinese; its English translation is named the same in English.
`,
	"bundle/index.en.md": `---
title: "An article in a page bundle"
original_title: "页面包里的文章"
date: 2024-01-08T08:00:00Z
summary: "The translation sits in the bundle's directory."
---

**TL;DR:** The translation sits in the bundle's directory.

This article is the index of a page bundle; the translation goes in the same directory.
`,
	"with-summary.en.md": `---
title: "An article whose original has a summary"
original_title: "原文有摘要的文章"
date: 2024-01-09T08:00:00Z
summary: "The author's summary is kept as original_summary — and this one replaces it."
original_summary: "这是原文作者写的摘要。"
---

**TL;DR:** The author's summary is kept as original_summary — and this one replaces it.

The front matter of this article has the author's summary; it is kept as the original summary.
`,
}

// hugoEnglishName is the name the English translation of a Chinese original
// gets with --suffix .en: a.md -> a.en.md, a.zh.md -> a.en.md,
// bundle/index.md -> bundle/index.en.md, a.txt -> a.en.md.
func hugoEnglishName(orig string) string {
	stem := strings.TrimSuffix(orig, filepath.Ext(orig))
	return strings.TrimSuffix(stem, ".zh") + ".en.md"
}

// hugoInPlace is the content of the multilingual site after the first in-place
// run, made once and copied by the tests that use it.
var hugoInPlace struct {
	once    sync.Once
	content string // content/ after the first run
	code    int
	stderr  string
}

// hugoInPlaceArgs is the in-place command, relative to the site.
var hugoInPlaceArgs = []string{"-q", "--suffix", ".en", "--layout", "english", "-o", "content/posts", "content/posts"}

// hugoInPlaceContent returns a copy of the multilingual site's content/ (the
// corpus and the hand-made originals in content/posts) after the first
// in-place run, at site/content; a failed run fails t, and its outputs are
// still there.
func hugoInPlaceContent(t *testing.T, site string) {
	t.Helper()
	environ := hugoXlateEnv(t)
	hugoInPlace.once.Do(func() {
		dir := filepath.Join(filepath.Dir(xlateBin), "in-place")
		posts := filepath.Join(dir, "content", "posts")
		hugoCopyTree(t, hugoCorpusDir(), posts)
		for name, text := range hugoHandMade {
			hugoWriteFile(t, filepath.Join(posts, name), text)
		}
		r := runXlateIn(t, dir, environ, nil, hugoInPlaceArgs...)
		hugoInPlace.content, hugoInPlace.code, hugoInPlace.stderr = filepath.Join(dir, "content"), r.code, r.stderr
	})
	if hugoInPlace.content == "" {
		t.Fatal("the first in-place run was not made")
	}
	if hugoInPlace.code != 0 {
		t.Errorf("first run of xlate %s: exit %d:\n%s", strings.Join(hugoInPlaceArgs, " "), hugoInPlace.code, hugoInPlace.stderr)
	}
	hugoCopyTree(t, hugoInPlace.content, filepath.Join(site, "content"))
}

// TestHugoMultilingual translates a zh/en site in place (English files
// named .en.md beside their originals) and builds it: no duplicate target
// paths, every original paired with its English translation.
func TestHugoMultilingual(t *testing.T) {
	hugo := needHugo(t)
	t.Parallel()
	site := hugoNewSite(t, hugoMultiConfig)
	hugoInPlaceContent(t, site)

	// The originals: every file of the corpus and the hand-made ones.
	var originals []hugoSource
	for _, f := range corpusFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		originals = append(originals, hugoSource{filepath.Base(f), b})
	}
	for name, text := range hugoHandMade {
		originals = append(originals, hugoSource{name, []byte(text)})
	}
	hugoCheckMultilingual(t, site, hugoBuild(t, hugo, site), originals)
}

// TestHugoMultilingualHarness builds a multilingual site from the hand-made
// originals and English translations written by hand the way xlate is to
// write them, and runs TestHugoMultilingual's checks on it: they pass on a
// correct site (no warning from Hugo 0.111, every page paired).
func TestHugoMultilingualHarness(t *testing.T) {
	hugo := needHugo(t)
	t.Parallel()
	site := hugoNewSite(t, hugoMultiConfig)
	posts := filepath.Join(site, "content", "posts")
	var originals []hugoSource
	for name, text := range hugoHandMade {
		hugoWriteFile(t, filepath.Join(posts, name), text)
		originals = append(originals, hugoSource{name, []byte(text)})
	}
	for name, text := range hugoHandMadeEnglish {
		hugoWriteFile(t, filepath.Join(posts, name), text)
	}
	hugoCheckMultilingual(t, site, hugoBuild(t, hugo, site), originals)
}

// hugoCheckMultilingual checks a built zh/en site: each original (under
// content/posts) paired with its English page, which Hugo reads with the
// original's dates, draft and terms and an English title and summary; the
// pages with url, aliases or slug where they should be.
func hugoCheckMultilingual(t *testing.T, site string, pages map[string]hugoPage, originals []hugoSource) {
	t.Helper()
	sort.Slice(originals, func(i, j int) bool { return originals[i].name < originals[j].name })
	sources := map[string]hugoSource{} // English page -> its original
	for _, src := range originals {
		sources["posts/"+hugoEnglishName(src.name)] = src
	}

	t.Run("every original paired with its English page", func(t *testing.T) {
		for _, src := range originals {
			name := src.name
			en, ok := pages["posts/"+hugoEnglishName(name)]
			if !ok {
				t.Errorf("%s: no English page posts/%s in the site (English pages like it: %s)", name, hugoEnglishName(name), hugoEnglishFiles(pages, name))
				continue
			}
			if en.Lang != "en" {
				t.Errorf("%s: Hugo reads it as language %q", en.File, en.Lang)
			}
			orig, ok := pages["posts/"+name]
			if !ok {
				if !strings.HasSuffix(name, ".txt") {
					t.Errorf("%s: the original is not a page of the site", name)
				}
				continue // a .txt original is no Hugo page
			}
			if orig.Lang != "zh" {
				t.Errorf("%s: Hugo reads the original as language %q", orig.File, orig.Lang)
			}
			if !slices.ContainsFunc(en.Translations, func(r hugoRef) bool { return r.File == orig.File }) {
				t.Errorf("%s: .Translations %v lacks its original %s", en.File, en.Translations, orig.File)
			}
			if !slices.ContainsFunc(orig.Translations, func(r hugoRef) bool { return r.File == en.File }) {
				t.Errorf("%s: .Translations %v lacks its English page %s", orig.File, orig.Translations, en.File)
			}
			if orig.Kind == "page" {
				hugoComparePages(t, orig, en)
			}
		}
	})
	t.Run("English pages", func(t *testing.T) {
		n := 0
		for _, p := range pages {
			if p.Lang != "en" {
				continue
			}
			n++
			src, ok := sources[p.File]
			if !ok {
				t.Errorf("%s: an English page that is no original's translation (expected names: a.md, a.zh.md -> a.en.md)", p.File)
			}
			hugoCheckTitle(t, p, src)
			if p.Kind == "page" {
				hugoCheckSummary(t, p, filepath.Join(site, "content", filepath.FromSlash(p.File)), src, true)
			}
		}
		if n == 0 {
			t.Error("no English pages")
		}
	})
	t.Run("url, aliases and slug", func(t *testing.T) {
		tests := []struct {
			file, permalink string
			frontMatter     map[string]any // keys the English front matter must have
			redirects       map[string]string
		}{
			{file: "posts/fixed-url.md", permalink: "/fixed-url/"},
			{file: "posts/fixed-url.en.md", permalink: "/en/fixed-url/", frontMatter: map[string]any{"url": "/en/fixed-url/"}},
			{file: "posts/aliases.md", permalink: "/posts/aliases/",
				redirects: map[string]string{"old-path": "/posts/aliases/", "archive/2019/old-name.html": "/posts/aliases/"}},
			{file: "posts/aliases.en.md", permalink: "/en/posts/aliases/",
				frontMatter: map[string]any{"aliases": []any{"/en/old-path/", "/en/archive/2019/old-name.html"}},
				redirects:   map[string]string{"en/old-path": "/en/posts/aliases/", "en/archive/2019/old-name.html": "/en/posts/aliases/"}},
			// Hugo 0.111 puts a relative url or alias under the language
			// itself: left relative or made absolute (/en/...), either works.
			{file: "posts/relative.md", permalink: "/rel-url/", redirects: map[string]string{"old-rel": "/rel-url/"}},
			{file: "posts/relative.en.md", permalink: "/en/rel-url/", redirects: map[string]string{"en/old-rel": "/en/rel-url/"}},
			{file: "posts/slug.md", permalink: "/posts/my-slug/"},
			{file: "posts/slug.en.md", permalink: "/en/posts/my-slug/", frontMatter: map[string]any{"slug": "my-slug"}},
			{file: "posts/named.zh.md", permalink: "/posts/named/"},
			{file: "posts/named.en.md", permalink: "/en/posts/named/"},
			{file: "posts/bundle/index.md", permalink: "/posts/bundle/"},
			{file: "posts/bundle/index.en.md", permalink: "/en/posts/bundle/"},
			{file: "posts/_index.en.md", permalink: "/en/posts/"},
			{file: "posts/with-summary.en.md", frontMatter: map[string]any{"original_summary": "这是原文作者写的摘要。"}},
		}
		for _, tt := range tests {
			p, ok := pages[tt.file]
			if !ok {
				t.Errorf("%s: not a page of the site", tt.file)
				continue
			}
			if tt.permalink != "" && p.Permalink != tt.permalink {
				t.Errorf("%s: .RelPermalink = %q, want %q", tt.file, p.Permalink, tt.permalink)
			}
			if len(tt.frontMatter) > 0 {
				b, _ := os.ReadFile(filepath.Join(site, "content", filepath.FromSlash(tt.file)))
				fm, err := hugoFrontMatter(b)
				if err != nil {
					t.Errorf("%s: front matter: %v", tt.file, err)
				}
				for k, v := range tt.frontMatter {
					if !reflect.DeepEqual(fm[k], v) {
						t.Errorf("%s: front matter %s = %#v, want %#v", tt.file, k, fm[k], v)
					}
				}
			}
			for from, to := range tt.redirects {
				path := filepath.Join(site, "public", filepath.FromSlash(from))
				if !strings.HasSuffix(from, ".html") {
					path = filepath.Join(path, "index.html")
				}
				b, err := os.ReadFile(path)
				if got := hugoRedirect(b); err != nil || got != to {
					t.Errorf("%s: alias /%s redirects to %q, want %q (%v)", tt.file, from, got, to, err)
				}
			}
		}
	})
}

// hugoRedirect is the path an alias's redirect page sends to.
func hugoRedirect(page []byte) string {
	_, after, ok := bytes.Cut(page, []byte(`http-equiv="refresh" content="0; url=https://example.org`))
	if !ok {
		return ""
	}
	target, _, _ := bytes.Cut(after, []byte(`"`))
	return string(target)
}

// hugoEnglishFiles lists the content paths of a site's English pages whose
// names start like the original's.
func hugoEnglishFiles(pages map[string]hugoPage, orig string) string {
	stem := strings.TrimSuffix(strings.TrimSuffix(orig, filepath.Ext(orig)), ".zh")
	var s []string
	for f, p := range pages {
		if p.Lang == "en" && strings.HasPrefix(f, "posts/"+stem) {
			s = append(s, f)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// hugoFileState is what a second run must leave unchanged.
type hugoFileState struct {
	data  []byte
	mtime time.Time
	mode  fs.FileMode
}

func hugoSnapshot(t *testing.T, dir string) map[string]hugoFileState {
	t.Helper()
	files := map[string]hugoFileState{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = hugoFileState{b, fi.ModTime(), fi.Mode()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestHugoInPlaceSecondRun runs the in-place command of TestHugoMultilingual
// a second time: it must write nothing and translate none of its own
// outputs (no chat request).
func TestHugoInPlaceSecondRun(t *testing.T) {
	t.Parallel()
	hugoXlateEnv(t) // the shared cache
	site := hugoSiteDir(t)
	hugoInPlaceContent(t, site)
	before := hugoSnapshot(t, filepath.Join(site, "content"))

	// A fake of its own, on the shared cache: its requests are this run's.
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	r := runXlateIn(t, site, env(t, srv, hugoShared.cache), nil, hugoInPlaceArgs...)
	if r.code != 0 {
		t.Errorf("second run: exit %d:\n%s", r.code, r.stderr)
	}
	if n := chatCount(srv); n != 0 {
		var seen []string
		for _, q := range srv.Requests() {
			if q.Kind == fakeopenai.KindTranslate || q.Kind == fakeopenai.KindSummary || q.Kind == fakeopenai.KindOther {
				seen = append(seen, fmt.Sprintf("%s %.80q", q.Kind, q.User()))
				if len(seen) == 5 {
					break
				}
			}
		}
		t.Errorf("second run made %d chat requests (it translated its own outputs?), e.g.:\n  %s", n, strings.Join(seen, "\n  "))
	}

	after := hugoSnapshot(t, filepath.Join(site, "content"))
	var added, changed, removed []string
	for name, a := range after {
		b, ok := before[name]
		switch {
		case !ok:
			added = append(added, name)
		case !bytes.Equal(a.data, b.data) || !a.mtime.Equal(b.mtime) || a.mode != b.mode:
			changed = append(changed, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			removed = append(removed, name)
		}
	}
	for _, d := range []struct {
		what  string
		files []string
	}{{"wrote new files", added}, {"rewrote files", changed}, {"removed files", removed}} {
		if len(d.files) > 0 {
			sort.Strings(d.files)
			t.Errorf("second run %s (%d): %s", d.what, len(d.files), strings.Join(d.files[:min(len(d.files), 10)], ", "))
		}
	}
}

// TestHugoTxtNames: what xlate writes does not depend on an input's name: a
// corpus file renamed .txt gives the same output as under its .md name, and
// a file gives the same output as its bytes on stdin.
func TestHugoTxtNames(t *testing.T) {
	t.Parallel()
	hugoXlateEnv(t) // starts the shared server
	// A cache of its own: the other tests' processes, running at the same
	// time on the shared cache, may settle an article's summary by another
	// path (from the request itself, or from notes), which a byte
	// comparison would take for a difference of names.
	environ := env(t, hugoShared.srv, t.TempDir())
	tmp := t.TempDir()
	dirMD, dirTXT := filepath.Join(tmp, "md"), filepath.Join(tmp, "txt")
	var names []string // stems
	for _, f := range corpusFiles(t) {
		if filepath.Ext(f) != ".md" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		stem := strings.TrimSuffix(filepath.Base(f), ".md")
		names = append(names, stem)
		hugoWriteFile(t, filepath.Join(dirMD, stem+".md"), string(b))
		hugoWriteFile(t, filepath.Join(dirTXT, stem+".txt"), string(b))
	}
	outA, outB := filepath.Join(tmp, "outA"), filepath.Join(tmp, "outB")
	for _, run := range [][2]string{{outA, dirMD}, {outB, dirTXT}} {
		if r := runXlate(t, environ, nil, "-q", "-o", run[0], run[1]); r.code != 0 {
			t.Errorf("xlate -o %s %s: exit %d:\n%s", run[0], run[1], r.code, r.stderr)
		}
	}
	outputs := map[string][]byte{}
	for _, stem := range names {
		a, errA := os.ReadFile(filepath.Join(outA, stem+".md"))
		b, errB := os.ReadFile(filepath.Join(outB, stem+".md"))
		switch {
		case errA != nil || errB != nil:
			t.Errorf("%s: %v, %v", stem, errA, errB)
		case !bytes.Equal(a, b):
			t.Errorf("%s: the output of %s.txt differs from that of %s.md:\n%s", stem, stem, stem, hugoFirstDiff(a, b))
		}
		outputs[stem] = a
	}

	// seed.txt: the file and its bytes on stdin give the same output, the
	// one the corpus file gives under its .md name.
	seeds := []string{
		"华盛顿内幕_马斯克极其厌恶的奥尔特曼_如何赢得特朗普支持", // YAML front matter over HTML
		"mdbody-dockerhub", // YAML front matter over markdown
		"转录组数据三分组的差异分析方式", // front matter with an empty key
	}
	for _, stem := range seeds {
		t.Run(stem, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dirMD, stem+".md"))
			if err != nil {
				t.Fatal(err)
			}
			seed := filepath.Join(t.TempDir(), "seed.txt")
			hugoWriteFile(t, seed, string(b))
			file := runXlate(t, environ, nil, seed)
			stdin := runXlate(t, environ, b)
			if file.code != 0 || stdin.code != 0 {
				t.Fatalf("xlate seed.txt: exit %d; xlate < seed.txt: exit %d:\n%s%s", file.code, stdin.code, file.stderr, stdin.stderr)
			}
			if file.stdout != stdin.stdout {
				t.Errorf("xlate seed.txt and xlate < seed.txt differ:\n%s", hugoFirstDiff([]byte(file.stdout), []byte(stdin.stdout)))
			}
			if want := outputs[stem]; want != nil && file.stdout != string(want) {
				t.Errorf("xlate seed.txt differs from the output of %s.md:\n%s", stem, hugoFirstDiff(want, []byte(file.stdout)))
			}
		})
	}
}

// hugoFirstDiff shows the first differing line of a and b.
func hugoFirstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y || i >= len(la) || i >= len(lb) {
			return fmt.Sprintf("  line %d:\n  - %.200q\n  + %.200q", i+1, x, y)
		}
	}
	return "  (no difference)"
}
