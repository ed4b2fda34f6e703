//! The README's sample output is the tool's own: the block after `$ shakedown CAPTURE` must be what
//! a fresh run prints (up to the line the README stops at), so the README stays true.

use shakedown_tests::{fixture, root, run_cli};

#[test]
fn readme_sample_is_a_fresh_run() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let command = "$ shakedown tests/fixtures/rdp/seed-handshake-failure.pcap\n";
    let start = readme.find(command).expect("the README shows a run") + command.len();
    let end = start + readme[start..].find("```").expect("the block ends");
    let shown = &readme[start..end];

    let path = fixture("rdp/seed-handshake-failure.pcap");
    let (code, out, _) = run_cli(&["--color", "never", &path]);
    assert_eq!(code, 1, "a failure was found");
    let out = out.replace(&path, "tests/fixtures/rdp/seed-handshake-failure.pcap");
    let last = shown.lines().last().expect("a non-empty block");
    let cut = out
        .find(last)
        .expect("the README's last line is in the output")
        + last.len()
        + 1;
    assert_eq!(shown, &out[..cut], "README block differs from a fresh run");
}
