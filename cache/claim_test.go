package cache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClaims(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := Key("a")
	release, mine := d.Claim(key)
	if !mine {
		t.Fatal("first claim refused")
	}
	if _, mine := d.Claim(key); mine {
		t.Fatal("a live claim was claimed again")
	}
	// A waiter sees the entry once the owner writes it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan bool, 1)
	go func(ctx context.Context) {
		ok, _ := d.WaitClaim(ctx, key)
		got <- ok
	}(ctx)
	if err := d.Put(key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	release()
	if !<-got {
		t.Error("WaitClaim: no entry seen after the owner wrote it")
	}
	if _, err := os.Stat(d.claimPath(key)); !os.IsNotExist(err) {
		t.Errorf("released claim still on disk: %v", err)
	}

	// An owner that failed: the waiter is told to go ahead.
	key2 := Key("b")
	release, _ = d.Claim(key2)
	go func(ctx context.Context) {
		ok, _ := d.WaitClaim(ctx, key2)
		got <- ok
	}(ctx)
	time.Sleep(2 * claimPoll)
	release()
	if <-got {
		t.Error("WaitClaim reported an entry that was never written")
	}

	// A dead owner's claim (not touched for ClaimTTL) is taken over, and
	// pruned.
	key3 := Key("c")
	dead, mine := d.Claim(key3)
	defer dead()
	if !mine {
		t.Fatal("claim refused")
	}
	old := time.Now().Add(-2 * ClaimTTL)
	if err := os.Chtimes(d.claimPath(key3), old, old); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.WaitClaim(ctx, key3); ok || err != nil {
		t.Errorf("WaitClaim on a dead owner's claim = %v, %v; want false at once", ok, err)
	}
	release3, mine := d.Claim(key3)
	if !mine {
		t.Fatal("a dead owner's claim was not taken over")
	}
	release3()
	deadD, mine := d.Claim(Key("d"))
	defer deadD()
	if !mine {
		t.Fatal("claim refused")
	}
	if err := os.Chtimes(d.claimPath(Key("d")), old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Prune(time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.claimPath(Key("d"))); !os.IsNotExist(err) {
		t.Errorf("a dead owner's claim survived prune: %v", err)
	}
}

// TestClaimRefreshed: a held claim is touched while its owner lives, so a
// long request is never taken for a dead one.
func TestClaimRefreshed(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func(r time.Duration) { claimRefresh = r }(claimRefresh)
	claimRefresh = 50 * time.Millisecond
	key := Key("slow")
	release, _ := d.Claim(key)
	defer release()
	old := time.Now().Add(-2 * ClaimTTL)
	if err := os.Chtimes(d.claimPath(key), old, old); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for claimStale(d.claimPath(key)) {
		if time.Now().After(deadline) {
			t.Fatal("a held claim was not refreshed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClaimOfDeadProcess: a claim made on this machine by a process that
// is gone (kill -9) is no one's at once, not after ClaimTTL.
func TestClaimOfDeadProcess(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("no true command: %v", err)
	}
	key := Key("x")
	if err := os.MkdirAll(filepath.Dir(d.claimPath(key)), 0o700); err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("%d %s\n", cmd.Process.Pid, hostname())
	if err := os.WriteFile(d.claimPath(key), []byte(dead), 0o600); err != nil {
		t.Fatal(err)
	}
	release, mine := d.Claim(key)
	if !mine {
		t.Fatal("the claim of a process that is gone was not taken over")
	}
	release()
	// Another live process's claim holds.
	live := fmt.Sprintf("%d %s\n", os.Getppid(), hostname())
	if err := os.WriteFile(d.claimPath(key), []byte(live), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, mine := d.Claim(key); mine {
		t.Error("a live process's claim was taken")
	}
}

func TestTornClaim(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := Key("torn")
	// A claim is made whole: its file never shows without its owner.
	release, mine := d.Claim(key)
	if !mine {
		t.Fatal("first claim refused")
	}
	if b, err := os.ReadFile(d.claimPath(key)); err != nil || !strings.HasSuffix(string(b), " "+hostname()+"\n") {
		t.Errorf("claim file %q (%v)", b, err)
	}
	release()
	for _, torn := range []string{"", "123", "12 "} {
		if err := os.WriteFile(d.claimPath(key), []byte(torn), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, mine := d.Claim(key); mine {
			t.Errorf("a fresh torn claim %q was taken at once (its writer may still be at work)", torn)
		}
		old := time.Now().Add(-3 * time.Second)
		if err := os.Chtimes(d.claimPath(key), old, old); err != nil {
			t.Fatal(err)
		}
		release, mine := d.Claim(key)
		if !mine {
			t.Errorf("a torn claim %q 3 s old was not taken over (it would hold others for ClaimTTL)", torn)
			continue
		}
		release()
	}
	if ents, _ := os.ReadDir(filepath.Dir(d.claimPath(key))); len(ents) != 0 {
		t.Errorf("%d files left in claims/", len(ents))
	}
}
