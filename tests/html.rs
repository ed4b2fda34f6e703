//! `shakedown report --html`: the page for the seed capture has the ladder, the cause and the
//! filter; headless Chromium loads it without console errors and a screenshot shows it.
//!
//! The browser checks skip (with a message) where Chromium is absent, unless
//! `SHAKEDOWN_REQUIRE_CHROMIUM` is set, as CI does. `SHAKEDOWN_CHROMIUM` names another binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shakedown_tests::{fixture, run_cli as run};

/// The longest a browser run may take before it is killed and the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// A fresh directory for one test's files, kept after the run (under the target directory) so a
/// person can open the page and the screenshot.
fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("html")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

/// Writes the report of `captures` to `dir/name` and returns (exit code, page, stdout, stderr).
fn report(
    dir: &Path,
    name: &str,
    extra: &[&str],
    captures: &[&str],
) -> (u8, String, String, String) {
    let path = dir.join(name);
    let path_s = path.to_string_lossy().into_owned();
    let mut args = vec!["report", "--html", path_s.as_str()];
    args.extend_from_slice(extra);
    args.extend_from_slice(captures);
    let (code, out, err) = run(&args);
    let page = std::fs::read_to_string(&path).unwrap_or_default();
    (code, page, out, err)
}

#[test]
fn seed_page_has_the_ladder_the_cause_and_the_filter() {
    let dir = workdir("structure");
    let (code, page, out, err) = report(
        &dir,
        "seed.html",
        &[],
        &[&fixture("rdp/seed-handshake-failure.pcap")],
    );
    assert_eq!(code, 1, "a failure was found, like the main command: {err}");
    assert!(out.contains("seed.html"), "says where it wrote: {out}");
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.contains("<title>shakedown report: "));
    // The ladder: an SVG with a title, lanes, and an arrow per step.
    let svg_start = page
        .find("<svg class=\"ladder\"")
        .expect("a ladder diagram");
    let svg_end = page[svg_start..].find("</svg>").expect("closed") + svg_start;
    let svg = &page[svg_start..svg_end];
    assert!(svg.contains("role=\"img\"") && svg.contains("<title id="));
    for step in [
        ">SYN</text>",
        ">SYN-ACK</text>",
        ">X.224 Connection Request [ssl]</text>",
        ">X.224 Connection Confirm [selected ssl]</text>",
        ">ClientHello TLS 1.2 (27 suites)</text>",
        ">FIN</text>",
    ] {
        assert!(svg.contains(step), "the ladder shows {step}");
    }
    let fatal = svg
        .find("<g class=\"ev fatal evidence\">")
        .expect("a highlighted fatal alert, marked as evidence of the cause");
    assert!(svg[fatal..].contains(">Alert fatal handshake_failure</text>"));
    // The alert's time in ms from the first SYN, as the engine measures it.
    let seed = fixture("rdp/seed-handshake-failure.pcap");
    let (verdicts, _) =
        shakedown_tests::analyze_file(std::path::Path::new(&seed)).expect("seed capture");
    let v = &verdicts[0];
    let origin = v.tcp.syn.expect("a SYN").ts;
    let alert_ms = v.alerts[0].at.ts.millis_since(origin);
    assert!(
        svg.contains(&format!(">{alert_ms:.3} <tspan")),
        "times in ms from the first SYN ({alert_ms:.3})"
    );
    // The order of the arrows is the order of the capture.
    let pos = |s: &str| svg.find(s).unwrap_or(usize::MAX);
    assert!(pos(">SYN</text>") < pos(">ClientHello TLS 1.2"));
    assert!(pos(">ClientHello TLS 1.2") < pos(">Alert fatal handshake_failure"));
    assert!(pos(">Alert fatal handshake_failure") < pos(">FIN</text>"));
    // The cause, explanation, hints, Schannel events, RDP/TLS facts, the filter.
    assert!(page.contains("<code>no_shared_cipher</code>"));
    assert!(page.contains(
        "<h4>Why <span class=\"confidence certain\">certain</span></h4>\n<p>The server sent fatal alert handshake_failure"
    ));
    // The decisive arrows (the ClientHello and the alert) carry the evidence mark, no others.
    assert_eq!(svg.matches("<circle class=\"mark\"").count(), 2);
    assert!(page.contains("Get-TlsCipherSuite"));
    assert!(page.contains("<td class=\"num\">36874 (main)</td><td>the Windows server</td>"));
    assert!(page.contains("<td class=\"num\">36887</td><td>the Windows client</td>"));
    assert!(page.contains("<dt>RDP cookie</dt><dd><code>alice</code></dd>"));
    assert!(page.contains("<dt>Requested protocols</dt><dd>ssl</dd>"));
    assert!(page.contains("<dt>SNI</dt><dd><code>127.0.0.1</code></dd>"));
    assert!(page.contains("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"));
    let filter = v
        .wireshark_filter
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(
        page.contains(&format!("<code id=\"c0-0-filter\">{filter}")),
        "the filter"
    );
    // Summary: counts and frames.
    let frames = v.end.frame;
    assert!(
        page.contains(&format!("<td class=\"num\">{frames}</td>")),
        "frames in the summary"
    );
    // Self-contained: nothing fetched.
    assert!(!page.contains(" src=") && !page.contains("<link") && !page.contains("@import"));
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn all_includes_completed_connections_and_exit_status_follows_the_main_command() {
    let dir = workdir("all");
    let ok = fixture("tls/tls12-ok.pcap");
    let (code, page, _, err) = report(&dir, "ok.html", &[], &[&ok]);
    assert_eq!(code, 0, "no failure: {err}");
    assert!(page.contains("No connection to show in detail."));
    assert!(!page.contains("<svg"));
    let (code, page, _, err) = report(&dir, "ok-all.html", &["--all"], &[&ok]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains("<span class=\"badge completed\">COMPLETED</span>"));
    assert!(
        page.contains(">ServerHello TLS 1.2"),
        "the completed handshake is drawn"
    );

    // An unreadable input: status 2, named on stderr and in the page; the others still reported.
    let missing = dir.join("missing.pcap").to_string_lossy().into_owned();
    let seed = fixture("rdp/seed-handshake-failure.pcap");
    let (code, page, _, err) = report(&dir, "mixed.html", &[], &[&missing, &seed]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.pcap"), "{err}");
    assert!(page.contains("could not be read"));
    assert!(
        page.contains("All captures"),
        "a total row for several captures"
    );
    assert!(page.contains(">Alert fatal handshake_failure</text>"));

    // Usage errors are status 2 too; --help is not an error.
    assert_eq!(run(&["report", &seed]).0, 2, "--html is required");
    assert_eq!(run(&["report", "--help"]).0, 0);
    let (code, out, _) = run(&["report", "--html", "-", &seed]);
    assert_eq!(code, 1);
    assert!(out.starts_with("<!DOCTYPE html>"), "`-` writes to stdout");
}

/// The Chromium binary, or `None` (the browser checks are then skipped unless required).
/// The page's text, tags removed and character references resolved, spaces collapsed.
fn page_text(page: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// A capture with a little of everything the footer counts: the frames of many-connections, an
/// ARP frame (skipped), and a tail cut off in the middle of a block.
fn crafted_capture(dir: &Path) -> String {
    use shakedown::capture::{LinkType, PcapNgWriter};
    let mut r = shakedown::capture::open(Path::new(&fixture("lower/many-connections.pcapng")))
        .expect("fixture");
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    let mut ifaces = std::collections::HashMap::new();
    let mut last_ts = shakedown::Timestamp(0);
    while let Some(f) = r.next_frame().unwrap() {
        let i = match ifaces.get(&f.link_type) {
            Some(i) => *i,
            None => {
                let i = w.add_interface(f.link_type, 0).unwrap();
                ifaces.insert(f.link_type, i);
                i
            }
        };
        w.write_frame(i, &f).unwrap();
        last_ts = f.ts;
    }
    let eth = w.add_interface(LinkType::ETHERNET, 0).unwrap();
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    w.write_packet(eth, last_ts, &arp, arp.len() as u32)
        .unwrap();
    w.write_packet(eth, last_ts, &arp, arp.len() as u32)
        .unwrap();
    let mut bytes = w.finish().unwrap();
    bytes.truncate(bytes.len() - 20);
    let path = dir.join("crafted.pcapng");
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

/// Text and HTML render one report model: the same captures give the same figures in both, and
/// those figures are the JSON records' (outcomes, frames, skipped, cut, duplicates, caps,
/// truncation, suites with signalling values apart).
#[test]
fn text_and_html_show_the_same_figures() {
    let dir = workdir("same-figures");
    let crafted = crafted_capture(&dir);
    let captures = [
        fixture("rdp/seed-handshake-failure.pcap"),
        fixture("net/bridge-duplicates.pcap"),
        fixture("tls/snaplen-128-unknown-ca.pcap"),
        crafted,
    ];
    let caps: Vec<&str> = captures.iter().map(String::as_str).collect();
    // A live-connection cap of 2 makes the crafted capture evict connections. One thread, as the
    // page is made with: with several, the cap is shared among them and evicts other connections.
    let limit = ["--max-connections", "2"];
    let mut text_args = vec!["--color", "never", "--all", "-j", "1"];
    text_args.extend(limit);
    text_args.extend(&caps);
    let (text_code, text, _) = run(&text_args);
    let mut html_extra = vec!["--all"];
    html_extra.extend(limit);
    let (html_code, page, _, _) = report(&dir, "same.html", &html_extra, &caps);
    assert_eq!(text_code, html_code, "one exit status");
    let html = page_text(&page);
    let mut checked = 0;
    for c in &caps {
        let mut json_args = vec!["--summary-json", "-j", "1"];
        json_args.extend(limit);
        json_args.push(c);
        let (_, json, _) = run(&json_args);
        let records: Vec<serde_json::Value> = json
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let (summary, conns) = records.split_last().expect("a summary record");
        let n = |k: &str| summary[k].as_u64().unwrap_or(0);
        let count = |o: &str| conns.iter().filter(|r| r["outcome"] == o).count();
        let mut figures = vec![
            format!(
                "{}: {} failed, {} incomplete, {} completed, {} not TLS",
                plural(conns.len() as u64, "connection"),
                count("failed"),
                count("incomplete"),
                count("completed"),
                count("not_tls")
            ),
            format!(
                "{}, {}",
                plural(n("frames"), "frame"),
                plural(n("tcp_segments"), "TCP segment")
            ),
        ];
        if let Some(skipped) = summary["skipped"].as_object().filter(|m| !m.is_empty()) {
            let list: Vec<String> = skipped.iter().map(|(k, v)| format!("{v} {k}")).collect();
            figures.push(format!("skipped: {}", list.join(", ")));
        }
        if n("cut_frames") > 0 {
            figures.push(format!(
                "{} cut at {} bytes by the capture's snap length",
                plural(n("cut_frames"), "frame"),
                n("snap_len")
            ));
        }
        if n("duplicate_frames") > 0 {
            figures.push(format!(
                "{} captured twice",
                plural(n("duplicate_frames"), "duplicate frame")
            ));
        }
        if n("evicted") + n("expired") + n("out_of_order") + n("budget_hits") > 0 {
            figures.push(format!(
                "caps: {} evicted (live-connection cap), {} expired idle, {} reported out of order",
                plural(n("evicted"), "connection"),
                n("expired"),
                n("out_of_order")
            ));
        }
        if let Some(t) = summary["truncated"].as_object() {
            figures.push(format!(
                "the capture is cut short after {}",
                plural(t["frames_read"].as_u64().unwrap(), "frame")
            ));
        }
        for r in conns {
            let Some(suites) = r["tls"]["client_hello"]["cipher_suites"].as_array() else {
                continue;
            };
            let names: Vec<&str> = suites.iter().filter_map(|s| s.as_str()).collect();
            let signalling: Vec<&&str> = names.iter().filter(|s| s.ends_with("_SCSV")).collect();
            let real = names
                .iter()
                .filter(|s| !s.ends_with("_SCSV") && !s.starts_with("GREASE"))
                .count();
            let mut phrase = plural(real as u64, "cipher suite");
            for s in &signalling {
                phrase.push_str(&format!(" (+ {s})"));
            }
            // The text lists the suites between the count and the signalling values.
            assert!(
                text.contains(&plural(real as u64, "cipher suite")),
                "{c}: {phrase}"
            );
            for s in &signalling {
                assert!(text.contains(&format!(" (+ {s})")), "{c}: {s} in the text");
            }
            let html_phrase = format!(
                "{} offered{}",
                plural(real as u64, "cipher suite"),
                &phrase[plural(real as u64, "cipher suite").len()..]
            );
            assert!(
                html.contains(&html_phrase),
                "{c}: {html_phrase} in the page"
            );
            checked += 1;
        }
        for f in &figures {
            assert!(
                text.contains(f.as_str()),
                "{c}: the text lacks {f:?}\n{text}"
            );
            assert!(
                html.contains(f.as_str()),
                "{c}: the page lacks {f:?}\n{html}"
            );
        }
        checked += figures.len();
    }
    // Every kind of figure was met at least once.
    for kind in [
        "skipped: ",
        "cut at 128 bytes",
        "duplicate frames captured twice",
        "caps: ",
        "cut short after",
        "(+ TLS_EMPTY_RENEGOTIATION_INFO_SCSV)",
    ] {
        assert!(text.contains(kind) && html.contains(kind), "{kind}");
    }
    assert!(checked >= 14, "{checked}");
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SHAKEDOWN_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

struct BrowserRun {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `url` with `extra` flags, killed after [`BROWSER_TIMEOUT`].
fn browse(chromium: &Path, dir: &Path, tag: &str, extra: &[&str], url: &str) -> BrowserRun {
    let profile = dir.join(format!("profile-{tag}"));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("a fresh profile directory");
    let out_path = dir.join(format!("{tag}.stdout"));
    let err_path = dir.join(format!("{tag}.stderr"));
    let out_file = std::fs::File::create(&out_path).expect("stdout file");
    let err_file = std::fs::File::create(&err_path).expect("stderr file");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_file))
        .stderr(Stdio::from(err_file))
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        match child.try_wait().expect("wait for chromium") {
            Some(s) => break s,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within {BROWSER_TIMEOUT:?} ({tag})");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let _ = std::fs::remove_dir_all(&profile);
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed ({tag}): {status}\n{stderr}"
    );
    BrowserRun { stdout, stderr }
}

/// Console messages (log, warning, error, uncaught exceptions) in Chromium's stderr log.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

fn file_url(p: &Path) -> String {
    let abs = std::fs::canonicalize(p).expect("absolute path");
    format!("file://{}", abs.display())
}

#[test]
fn chromium_loads_the_page_without_console_errors_and_draws_it() {
    let Some(chromium) = chromium() else {
        if std::env::var_os("SHAKEDOWN_REQUIRE_CHROMIUM").is_some() {
            panic!("SHAKEDOWN_REQUIRE_CHROMIUM is set but chromium was not found in PATH");
        }
        eprintln!(
            "skipping the headless-browser checks of the HTML report: chromium not found \
             (apt-get install chromium, or set SHAKEDOWN_CHROMIUM)"
        );
        return;
    };
    let dir = workdir("browser");
    let (code, _, _, err) = report(
        &dir,
        "seed.html",
        &[],
        &[&fixture("rdp/seed-handshake-failure.pcap")],
    );
    assert_eq!(code, 1, "{err}");
    let url = file_url(&dir.join("seed.html"));

    // The console check must be able to fail: a page with an error is caught.
    let control = dir.join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html lang=\"en\"><head><title>control</title></head><body>\
         <script>console.error('control error'); missingFunction();</script></body></html>",
    )
    .expect("write the control page");
    let c = browse(
        &chromium,
        &dir,
        "control",
        &["--dump-dom"],
        &file_url(&control),
    );
    let lines = console_lines(&c.stderr);
    assert!(
        lines.iter().any(|l| l.contains("control error"))
            && lines.iter().any(|l| l.contains("Uncaught")),
        "the console check sees a broken page's errors: {lines:?}"
    );

    // (b) The page loads and its script ran: the DOM after load. The #selftest-copy fragment makes
    // the page press its first copy button, without clipboard permission.
    let dom = browse(
        &chromium,
        &dir,
        "dom",
        &["--dump-dom", "--virtual-time-budget=3000"],
        &format!("{url}#selftest-copy"),
    );
    let d = &dom.stdout;
    assert!(d.contains("data-ready=\"1\""), "the script ran to its end");
    assert!(d.contains("<h1>shakedown report</h1>"));
    assert!(d.contains("<svg class=\"ladder\""));
    assert!(d.contains("Alert fatal handshake_failure"));
    assert!(d.contains("<code>no_shared_cipher</code>"));
    assert!(
        d.contains("<button type=\"button\" class=\"copy\" data-target=\"c0-0-filter\">"),
        "the copy button is shown (no longer hidden)"
    );
    assert!(
        d.contains("Copied.</span>") || d.contains("Selected: press Ctrl+C"),
        "the copy button did something"
    );
    // (c) No console output at all: the page logs nothing when it works.
    assert_eq!(
        console_lines(&dom.stderr),
        Vec::<&str>::new(),
        "console messages"
    );

    // (d) A screenshot that shows something.
    let png = dir.join("seed.png");
    let shot = browse(
        &chromium,
        &dir,
        "screenshot",
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2000",
            "--hide-scrollbars",
        ],
        &url,
    );
    assert_eq!(console_lines(&shot.stderr), Vec::<&str>::new());
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG signature");
    // IHDR: width and height, big-endian, at bytes 16..24.
    let dim = |at: usize| {
        u32::from_be_bytes(
            bytes
                .get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .expect("an IHDR chunk"),
        )
    };
    assert_eq!((dim(16), dim(20)), (1280, 2000), "the window size");
    // A blank 1280×2000 page compresses to a few KB; text, tables and the diagram need far more.
    assert!(
        bytes.len() > 40_000,
        "the screenshot is not blank ({} bytes): {}",
        bytes.len(),
        png.display()
    );
    eprintln!("screenshot of the seed report: {}", png.display());
}
