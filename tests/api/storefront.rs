//! The storefront's files: compressed once at build time and sent as they are to a phone that
//! takes gzip; never a stale or a foreign file.

use tests::{spawn_app_with, Db};

fn write(path: &std::path::Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, bytes).expect("write");
}

#[tokio::test]
async fn storefront_files_go_out_as_compressed_at_build_time() {
    let dir = std::env::temp_dir().join(format!("fxs_static_{:x}", rand::random::<u64>()));
    let wasm: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    // Not real gzip: the server must send the twin's bytes as they are, never recompress them.
    let twin = b"\x1f\x8bprecompressed-at-build-time".to_vec();
    write(&dir.join("index.html"), b"<!doctype html><title>t</title>");
    write(&dir.join("pkg/app.wasm"), &wasm);
    write(&dir.join("pkg/app.wasm.gz"), &twin);
    write(&dir.join("pkg/old.js"), b"console.log('new');".repeat(100).as_slice());
    write(&dir.join("pkg/old.js.gz"), b"stale twin");
    // The twin is older than the file it stands for (the file changed after the build).
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(dir.join("pkg/old.js.gz"))
        .expect("open")
        .set_modified(past)
        .expect("mtime");
    let static_dir = dir.clone();
    let app = spawn_app_with(Db::Sqlite, move |c| c.static_dir = static_dir).await;
    let get = |path: &str, gzip: bool| {
        let mut req = app.client.get(app.url(path));
        if gzip {
            req = req.header("Accept-Encoding", "br;q=1.0, gzip;q=0.8");
        }
        async move {
            let res = req.send().await.expect("response");
            let headers = res.headers().clone();
            let header =
                move |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            (
                res.status().as_u16(),
                header("content-encoding"),
                header("content-type"),
                header("vary"),
                res.bytes().await.expect("body").to_vec(),
            )
        }
    };

    let (status, encoding, kind, vary, body) = get("/pkg/app.wasm", true).await;
    assert_eq!((status, encoding.as_str(), kind.as_str()), (200, "gzip", "application/wasm"));
    assert!(vary.to_ascii_lowercase().contains("accept-encoding"), "{vary}");
    assert_eq!(body, twin, "the build's own compression, sent as it is");

    let (status, encoding, kind, _, body) = get("/pkg/app.wasm", false).await;
    assert_eq!((status, encoding.as_str(), kind.as_str()), (200, "", "application/wasm"));
    assert_eq!(body, wasm, "a client that takes no gzip gets the file itself");

    let (status, _, _, _, body) = get("/pkg/old.js", true).await;
    assert_eq!(status, 200);
    assert_ne!(body, b"stale twin".to_vec(), "a twin older than its file is not used");

    // (A client resolves `..` before sending; the server's own refusal of it is a unit test.)
    for path in ["/pkg/app%2Ewasm", "/pkg/app.wasm.gz.gz", "/pkg/nothing.wasm"] {
        let (status, _, _, _, body) = get(path, true).await;
        assert!(status != 200 || body != twin, "{path}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
