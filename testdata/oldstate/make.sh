#!/bin/sh
# make.sh makes the fixtures of testdata/oldstate with xlate as it was at
# commit 912dfa5, before issue 13's redesign. Run it from the root of a
# checkout of that commit into which testdata/oldstate (this script,
# vllmrun.go, glossary.csv) was copied:
#
#	git worktree add /tmp/old 912dfa59a94781f297c8c0eb53a558009608303a
#	mkdir -p /tmp/old/testdata/oldstate
#	cp testdata/oldstate/make.sh testdata/oldstate/vllmrun.go testdata/oldstate/glossary.csv /tmp/old/testdata/oldstate/
#	cd /tmp/old && sh testdata/oldstate/make.sh
#
# It rewrites in/, cache/, job/, results/ and out/ of testdata/oldstate.
# Its scratch directory is /tmp/xlate-oldstate, whose in/ is the root of
# the input paths job/job.json records (oldstate_e2e_test.go rewrites it).
# Needs Go and no network: the model is the fake of internal/fakeopenai.
set -eu
commit=912dfa59a94781f297c8c0eb53a558009608303a
test "$(git rev-parse HEAD)" = "$commit" || { echo "make.sh: not at $commit" >&2; exit 1; }
here=testdata/oldstate
work=/tmp/xlate-oldstate
key=sk-test-e2e-0123456789 # the e2e tests' key; keys are not part of cache keys
rm -rf "$work"
mkdir -p "$work/in" "$work/home"

# The old binary, built as the e2e tests build theirs, and the fake server.
go build -buildvcs=true -ldflags "-X github.com/xlate/xlate/internal/cli.Commit=$commit" -o "$work/xlate" .
go build -o "$work/fakeopenai" ./cmd/fakeopenai

# The inputs, copied from the corpus of that commit.
for f in 山西留神峪煤矿事故_已致82人遇难.md 车展_唯一车模_爬上车顶_不为维权为哪般_.md plain-seed-cnbeta.txt mdbody-dockerhub.md 梁朝伟或加盟_鱿鱼游戏_第二季_已与黄东赫见面.md; do
	cp "testdata/corpus/$f" "$work/in/$f"
done
cp "$here/glossary.csv" "$work/glossary.csv"

# The environment of the e2e tests' env(): a clean one, the fake model.
run() {
	env -i PATH="$PATH" HOME="$work/home" OPENAI_API_KEY=$key OPENAI_BASE_URL="$url" XLATE_MODEL=fake-model "$@"
}

# Fixture A: a cache, filled by online runs against the fake server.
"$work/fakeopenai" -addr 127.0.0.1:0 -key $key >"$work/url" &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
while [ ! -s "$work/url" ]; do sleep 0.1; done
url=$(cat "$work/url")
cd "$work/in"
# The default settings: four files, one output directory.
run XLATE_CACHE_DIR="$work/cache" "$work/xlate" -q -o "$work/out/default" \
	山西留神峪煤矿事故_已致82人遇难.md 车展_唯一车模_爬上车顶_不为维权为哪般_.md plain-seed-cnbeta.txt mdbody-dockerhub.md
# Another language and a glossary: one file.
run XLATE_CACHE_DIR="$work/cache" "$work/xlate" -q --to French --glossary "$work/glossary.csv" \
	-o "$work/out/french-glossary/山西留神峪煤矿事故_已致82人遇难.md" 山西留神峪煤矿事故_已致82人遇难.md
cd - >/dev/null
kill $srv
trap - EXIT
url=http://127.0.0.1:1/v1 # nothing listens there: the batch steps below need no server

# Fixture B: a batch job, prepared (with an empty cache) and answered by
# vLLM's run_batch (the fake's), not collected.
run XLATE_CACHE_DIR="$work/batch-cache" "$work/xlate" batch prepare -o "$work/job" \
	"$work/in/山西留神峪煤矿事故_已致82人遇难.md" "$work/in/mdbody-dockerhub.md" "$work/in/梁朝伟或加盟_鱿鱼游戏_第二季_已与黄东赫见面.md"
mkdir -p "$work/results"
go run ./testdata/oldstate/vllmrun.go "$work"/job/requests-*.jsonl >"$work/results/vllm-run_batch.jsonl"
# What the old binary's collect writes, on a copy of the job.
cp -r "$work/job" "$work/job-collected"
run XLATE_CACHE_DIR="$work/collect-cache" "$work/xlate" batch collect --from "$work/results/vllm-run_batch.jsonl" \
	-o "$work/out/batch" "$work/job-collected"

# Into testdata/oldstate: the cache's entries only (no claims/, no
# temporary files), the job as prepare left it.
rm -rf "$here/in" "$here/cache" "$here/job" "$here/results" "$here/out"
cp -r "$work/in" "$work/results" "$work/out" "$here/"
mkdir -p "$here/cache" "$here/job"
(cd "$work/cache" && find . -type f -path './[0-9a-f][0-9a-f]/*' ! -name '.*' ! -name '*.tmp*') | while read -r f; do
	mkdir -p "$here/cache/$(dirname "$f")"
	cp "$work/cache/$f" "$here/cache/$f"
done
cp "$work/job/job.json" "$work/job/manifest.jsonl" "$work/job"/requests-*.jsonl "$here/job/"
chmod -R u+rwX,go+rX "$here"
