//! Every capture of the shared public corpus (`../shared/corpus`, or `SHAKEDOWN_CORPUS`) against the
//! facts an independent tool (TShark 4.0) derived from it: frame count, connections and their ends,
//! first FIN / first RST senders, packets and bytes per side, TLS version, suite, ClientHello facts,
//! every alert and its sender, RDP negotiation fields.

use shakedown_tests::{check_expected, corpus, files_with_suffix};

#[test]
fn corpus_matches_independent_facts() {
    let Some(dir) = corpus() else {
        assert!(
            std::env::var_os("SHAKEDOWN_REQUIRE_CORPUS").is_none(),
            "SHAKEDOWN_REQUIRE_CORPUS is set but the corpus folder is missing"
        );
        eprintln!(
            "SKIPPED: no corpus at ../shared/corpus (set SHAKEDOWN_CORPUS to run this check)"
        );
        return;
    };
    let expected = files_with_suffix(&dir, ".expected.json");
    assert!(
        expected.len() > 100,
        "the corpus should hold over 100 captures, found {}",
        expected.len()
    );
    let mut bad = Vec::new();
    for e in &expected {
        let name = e.to_string_lossy();
        let capture = std::path::PathBuf::from(name.trim_end_matches(".expected.json"));
        bad.extend(check_expected(&capture, e));
    }
    for b in &bad {
        eprintln!("{b}");
    }
    assert!(
        bad.is_empty(),
        "{} disagreements with the corpus (listed above)",
        bad.len()
    );
}
