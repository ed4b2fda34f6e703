//! Terminal manners, in-process: colour only when asked, columns aligned with or without it, shell
//! completions and a man page generated from the flags, help with examples, filters on the report.
//! (NO_COLOR on a real terminal and broken pipes are tested on the binary, in
//! crates/shakedown-cli/tests/binary.rs.)

use shakedown_tests::{fixture, run_cli as run};

/// Removes SGR escape sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colour_only_when_asked() {
    let f = fixture("lower/many-connections.pcapng");
    let (code, always, _) = run(&["--all", "--color", "always", &f]);
    assert_eq!(code, 1);
    assert!(always.contains("\x1b[1;31mFAILED\x1b[0m"), "{always}");
    assert!(always.contains("\x1b[32mcompleted\x1b[0m"), "{always}");
    let (_, never, _) = run(&["--all", "--color", "never", &f]);
    assert!(!never.contains('\x1b'));
    // `auto` into something that is not a terminal (here a buffer): no colour.
    let (_, auto, _) = run(&["--all", &f]);
    assert!(!auto.contains('\x1b'));
    // Colour changes nothing but the escapes: same text, same columns.
    assert_eq!(strip_ansi(&always), never);
    assert_eq!(auto, never);
}

#[test]
fn alerts_are_coloured() {
    let f = fixture("tls/no-shared-cipher.pcap");
    let (_, out, _) = run(&["--color", "always", &f]);
    assert!(out.contains("\x1b[35mAlert"), "{out}");
    let (_, plain, _) = run(&["--color", "never", &f]);
    assert_eq!(strip_ansi(&out), plain);
}

/// Every row of the connection table has its columns at the same offsets, with colour on.
#[test]
fn table_columns_stay_aligned_with_colour() {
    let f = fixture("lower/many-connections.pcapng");
    let (_, out, _) = run(&["--color", "always", &f]);
    let plain = strip_ansi(&out);
    let lines: Vec<&str> = plain.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("conn  client"))
        .expect("table header");
    let starts = |l: &str, word: &str| l.find(word);
    let outcome_col = starts(lines[head], "outcome").unwrap();
    let cause_col = starts(lines[head], "cause").unwrap();
    let rows: Vec<&str> = lines[head + 1..]
        .iter()
        .take_while(|l| !l.is_empty())
        .copied()
        .collect();
    assert_eq!(rows.len(), 6);
    for r in rows {
        let chars: Vec<char> = r.chars().collect();
        let at = |col: usize| chars[..].iter().skip(col).collect::<String>();
        let head_chars: Vec<char> = lines[head].chars().collect();
        // Column offsets in characters, not bytes (the arrows are multi-byte).
        let col_of = |byte: usize| lines[head][..byte].chars().count();
        let o = at(col_of(outcome_col));
        assert!(
            ["completed", "failed", "not_tls", "incomplete"]
                .iter()
                .any(|w| o.starts_with(w)),
            "{r}"
        );
        assert_eq!(chars[col_of(outcome_col) - 1], ' ', "{r}");
        assert_ne!(at(col_of(cause_col)).chars().next(), Some(' '), "{r}");
        assert!(head_chars.len() <= chars.len() + 8);
    }
}

#[test]
fn filters_narrow_the_report_and_json() {
    let f = fixture("lower/many-connections.pcapng");
    let (code, out, _) = run(&["--json", "--port", "4440", "--port", "4442", &f]);
    assert_eq!(code, 0, "only completed connections selected: no failure");
    let conns: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["conn"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(conns, [0, 2]);
    // Port 4444's unanswered SYN is not a failed handshake (TLS is not customary there).
    let (code, out, _) = run(&["--json", "--failed", "--port", "4444", &f]);
    assert_eq!((code, out.lines().count()), (0, 0));
    let (code, out, _) = run(&["--json", "--failed", "--port", "4443", &f]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 1);
    let (_, out, _) = run(&["--json", "--cause", "tcp_refused", &f]);
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains("\"tcp_refused\""));
    let (_, out, _) = run(&["--json", &f]);
    assert_eq!(out.lines().count(), 6, "--json without filters: everything");
    // Text: the header says what was selected; details and table follow the filters.
    let (_, out, _) = run(&["--color", "never", "--host", "127.0.0.1", "--conn", "3", &f]);
    assert!(out.contains("1 connection selected (of 6)"), "{out}");
    assert!(out.contains("[conn 3] FAILED"), "{out}");
    assert!(!out.contains("[conn 1]"), "{out}");
    // Completed connections are detailed only with --all.
    let (_, out, _) = run(&["--conn", "0", &f]);
    assert!(!out.contains("[conn 0]"), "{out}");
    let (_, out, _) = run(&["--all", "--conn", "0", &f]);
    assert!(out.contains("[conn 0] COMPLETED"), "{out}");
    // A bad address is a usage error.
    let (code, _, err) = run(&["--host", "nowhere", &f]);
    assert_eq!(code, 2);
    assert!(err.contains("not an IPv4 or IPv6 address"), "{err}");
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for word in ["failed", "color", "cause", "host", "extract", "manpage"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
    let (_, bash, _) = run(&["completions", "bash"]);
    assert!(
        bash.contains("no_shared_cipher"),
        "cause codes are completed"
    );
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("bash"), "{err}");
}

#[test]
fn man_page() {
    let (code, out, _) = run(&["manpage"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(".ie") || out.contains(".TH shakedown"),
        "{out}"
    );
    for word in ["failed", "color", "extract", "NO_COLOR", "Examples"] {
        assert!(out.contains(word), "man page lacks {word}");
    }
}

#[test]
fn help_has_examples_and_goes_to_stdout() {
    let (code, out, err) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(err.is_empty());
    for word in [
        "Examples:",
        "--failed",
        "--color",
        "shakedown extract",
        "completions",
    ] {
        assert!(out.contains(word), "--help lacks {word}");
    }
    let (code, out, _) = run(&["extract", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("-o failures.pcapng"), "{out}");
    assert!(out.contains("--output"), "{out}");
    // Every subcommand's help goes to stdout too, with status 0.
    for (sub, word) in [
        ("extract", "--output"),
        ("summary", "--jobs"),
        ("report", "--html"),
    ] {
        let (code, out, err) = run(&[sub, "--help"]);
        assert_eq!((code, err.as_str()), (0, ""), "{sub} --help");
        assert!(out.contains(word), "{sub} --help lacks {word}: {out}");
    }
}

/// The lines of `out` from the one starting with `start`, while they continue it (start with
/// `indent`), joined by spaces: the words of one wrapped paragraph.
fn paragraph(out: &str, start: &str, indent: &str) -> String {
    let mut lines = out.lines().skip_while(|l| !l.starts_with(start));
    let first = lines.next().unwrap_or_default().trim().to_string();
    let rest: Vec<&str> = lines
        .take_while(|l| l.starts_with(indent) && !l.trim_start().starts_with("also "))
        .map(str::trim)
        .collect();
    std::iter::once(first.as_str())
        .chain(rest)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn fitted_to_80_columns_with_the_same_words() {
    let f = fixture("rdp/seed-handshake-failure.pcap");
    let (_, whole, _) = run(&["--color", "never", &f]);
    let (_, wide, _) = run(&["--wide", "--color", "never", &f]);
    assert_eq!(whole, wide, "not a terminal: whole lines, as --wide");
    let (code, narrow, _) = run(&["--width", "80", "--color", "never", &f]);
    assert_eq!(code, 1);
    let detail = narrow.split("\nconn  client").next().unwrap();
    for l in detail.lines() {
        // The Wireshark filter stays whole, to be copied.
        if !l.starts_with("  Wireshark: ") {
            assert!(
                l.chars().count() <= 80,
                "{} columns: {l}",
                l.chars().count()
            );
        }
    }
    // Explanation and hints: wrapped at word boundaries with a hanging indent, no word lost.
    for (start, indent) in [
        ("  The server sent", "    "),
        ("    - On a Windows server", "      "),
        ("  Schannel: event 36874", "            "),
    ] {
        let wrapped = paragraph(&narrow, start, indent);
        assert_eq!(wrapped, paragraph(&whole, start, indent), "{start}");
        let lines = narrow.lines().skip_while(|l| !l.starts_with(start)).skip(1);
        assert!(
            lines.take_while(|l| l.starts_with(indent)).count() >= 1,
            "{start}: wrapped with a hanging indent\n{narrow}"
        );
    }
    // The suite list: as many as fit, then how many more; the signalling value apart.
    assert!(whole.contains("27 cipher suites: TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 "));
    assert!(
        narrow.contains("\n    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (+26 more)\n    (+ TLS_EMPTY_RENEGOTIATION_INFO_SCSV)\n"),
        "{narrow}"
    );
    // Ladder labels cut to their column, every arrow of a side at the same column.
    assert!(
        narrow.contains("◀── X.224 Connection Confirm [sel…\n"),
        "{narrow}"
    );
    assert!(whole.contains("◀── X.224 Connection Confirm [selected ssl]\n"));
    let column = |arrow: &str| -> Vec<usize> {
        detail
            .lines()
            .filter_map(|l| l.find(arrow).map(|b| l[..b].chars().count()))
            .collect()
    };
    for arrow in ["──▶", "◀──"] {
        let cols = column(arrow);
        assert!(
            cols.len() >= 3 && cols.windows(2).all(|w| w[0] == w[1]),
            "{arrow}: {cols:?}"
        );
    }
    // Colour does not move a break.
    let (_, painted, _) = run(&["--width", "80", "--color", "always", &f]);
    assert_eq!(strip_ansi(&painted), narrow);
    // A tiny width is raised to a floor rather than breaking every word.
    let (_, tiny, _) = run(&["--width", "5", "--color", "never", &f]);
    let (_, forty, _) = run(&["--width", "40", "--color", "never", &f]);
    assert_eq!(tiny, forty);
    let (code, _, err) = run(&["--wide", "--width", "80", &f]);
    assert_eq!(code, 2, "--wide and --width conflict: {err}");
}

#[test]
fn plurals_are_right() {
    let f = fixture("lower/many-connections.pcapng");
    let (_, out, _) = run(&["--color", "never", "--conn", "3", &f]);
    assert!(
        out.contains(": 1 connection selected (of 6): 1 failed,"),
        "{out}"
    );
    let seed = fixture("rdp/seed-handshake-failure.pcap");
    let (_, out, _) = run(&["--color", "never", &seed]);
    assert!(
        out.contains(": 1 connection: 1 failed, 0 incomplete"),
        "{out}"
    );
    assert!(!out.contains(" 1 connections"), "{out}");
}

/// One page: no references to pages that do not exist, every example block as written, the JSON
/// contract named.
#[test]
fn man_page_is_one_page_with_verbatim_examples() {
    let (code, man, _) = run(&["manpage"]);
    assert_eq!(code, 0);
    assert!(!man.contains("(1)"), "a reference to another page");
    assert!(!man.contains("shakedown\\-help"), "no help subcommand");
    for section in [
        ".SH \"SHAKEDOWN EXTRACT\"",
        ".SH \"SHAKEDOWN SUMMARY\"",
        ".SH \"SHAKEDOWN REPORT\"",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(man.contains(section), "{section}");
    }
    assert!(man.contains("docs/SCHEMA.md"));
    // Each example block is in no-fill mode, its lines as in --help (minus signs escaped).
    let example =
        "  shakedown \\-\\-failed \\-\\-port 3389 cap.pcap  only failed connections on port 3389\n";
    let at = man.find(example).expect("the example, verbatim");
    let before = &man[..at];
    assert!(before.rfind(".nf\n") > before.rfind(".fi\n"), "inside .nf");
    let blocks = man.matches(".nf\n").count();
    assert_eq!(blocks, man.matches(".fi\n").count());
    assert!(blocks >= 6, "{blocks}");
}

/// Every subcommand's help names the program, and points to the JSON contract where it writes JSON.
#[test]
fn subcommand_help_shows_the_program_name() {
    for sub in ["extract", "summary", "report", "completions", "manpage"] {
        let (code, out, _) = run(&[sub, "--help"]);
        assert_eq!(code, 0);
        assert!(
            out.contains(&format!("Usage: shakedown {sub}")),
            "{sub}: {out}"
        );
    }
    let (_, out, _) = run(&["--help"]);
    assert!(out.contains("docs/SCHEMA.md"));
    let (_, out, _) = run(&["summary", "--help"]);
    assert!(out.contains("docs/SCHEMA.md"));
    for flag in [
        "--failed",
        "--cause",
        "--host",
        "--port",
        "--conn",
        "--max-connections",
        "--tls-ports",
    ] {
        assert!(out.contains(flag), "summary --help lacks {flag}");
        let (_, report, _) = run(&["report", "--help"]);
        assert!(report.contains(flag), "report --help lacks {flag}");
    }
}
