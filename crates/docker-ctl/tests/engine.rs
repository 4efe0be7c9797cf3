//! Docker tests on the real daemon (`DOCKER_HOST` or the default socket). No registry: each
//! test builds a tiny `FROM scratch` image holding the host's `/bin/sh`, `/bin/sleep` and
//! `/bin/cat` with their libraries, labelled, and removes its containers and images at the end.
//! Without a daemon every test prints why and returns, except under SGLCI_REQUIRE_DOCKER=1.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use docker_ctl::testkit::{
    Cleanup, connect_or_skip, host_programs_context, inspect_ours, test_spec, unique, with_engine,
};
use docker_ctl::{
    BlockingEngine, ContainerSpec, DockerError, EngineConfig, Ensured, ExecLogs, ExecSpec,
    IMAGE_LABEL, MANAGED_LABEL, Mount, PathKind, StreamKind, TIMEOUT_EXIT_CODE,
};

/// Builds the test image and registers it for removal.
fn test_image(engine: &BlockingEngine, cleanup: &mut Cleanup<'_>) -> String {
    let tag = format!("{}:1", unique("sglang-ci-test/base"));
    let ctx = host_programs_context(
        &["/bin/sh", "/bin/sleep", "/bin/cat"],
        &["/bin/sleep", "infinity"],
        "LABEL org.sglang-ci.test=\"1\"",
    )
    .expect("build context from host programs");
    cleanup.image(&tag);
    engine
        .build_image(
            ctx.finish().unwrap(),
            &tag,
            &BTreeMap::new(),
            Duration::from_secs(300),
            |_| {},
        )
        .expect("build test image");
    tag
}

fn spec(name: &str, image: &str) -> ContainerSpec {
    test_spec(name, image).created_by("docker-ctl-tests")
}

fn sh(script: &str) -> ExecSpec {
    ExecSpec::new(["/bin/sh", "-c", script])
}

#[test]
fn create_start_exec_stop_reuse_remove() {
    with_engine("create_start_exec_stop_reuse_remove", |engine, cleanup| {
        let image = test_image(engine, cleanup);
        let name = unique("sglang-ci-test-life");
        cleanup.container(&name);
        let host_dir = tempfile::tempdir().unwrap();
        let mut s = spec(&name, &image);
        s.mounts.push(Mount::same(host_dir.path()));
        s.env.push("FROM_SPEC=yes".into());

        // Create: the original's settings, our label, the mount.
        let first = engine.ensure_container(&s).expect("create");
        let Ensured::Created { info, warnings } = &first else {
            panic!("expected a new container, got {first:?}")
        };
        assert!(info.running(), "{info:?}");
        assert!(info.managed);
        // A nested daemon (this CI machine) may refuse --privileged: then it is dropped, said.
        assert!(
            warnings.iter().all(|w| w.contains("--privileged")),
            "{warnings:?}"
        );
        assert_eq!(
            info.labels.get(MANAGED_LABEL).map(String::as_str),
            Some("true")
        );
        let raw = inspect_ours(engine, info, "docker-ctl-tests");
        let hc = raw.host_config.unwrap();
        assert_eq!(hc.privileged, Some(warnings.is_empty()));
        assert_eq!(hc.shm_size, Some(64 << 20));
        assert_eq!(hc.cap_add, Some(vec!["SYS_PTRACE".to_string()]));
        assert_eq!(hc.group_add, Some(vec![ContainerSpec::video_group()]));
        assert_eq!(
            raw.config.unwrap().working_dir.as_deref(),
            Some("/sgl-workspace")
        );

        // Exec: stdout and stderr into separate files, exit code returned, env and mount visible.
        let logs_dir = tempfile::tempdir().unwrap();
        let logs = ExecLogs {
            stdout: Some(logs_dir.path().join("out.log")),
            stderr: Some(logs_dir.path().join("err.log")),
            append: false,
        };
        let marker = host_dir.path().join("written-in-container");
        let mut spec_exec = sh(&format!(
            "echo hello $FROM_SPEC $FROM_EXEC; echo oops >&2; echo data > {}; exit 3",
            marker.display()
        ));
        spec_exec.env.push("FROM_EXEC=too".into());
        let out = engine.exec(&name, &spec_exec, &logs, |_, _| {}).unwrap();
        assert_eq!(out.exit_code, 3);
        assert!(!out.timed_out && !out.success());
        assert_eq!(
            std::fs::read_to_string(logs_dir.path().join("out.log")).unwrap(),
            "hello yes too\n"
        );
        assert_eq!(
            std::fs::read_to_string(logs_dir.path().join("err.log")).unwrap(),
            "oops\n"
        );
        assert_eq!(std::fs::read_to_string(&marker).unwrap(), "data\n");

        // Paths inside the container, without any program in the image.
        assert_eq!(
            engine.path_kind(&name, "/bin").unwrap(),
            Some(PathKind::Dir)
        );
        assert_eq!(
            engine.path_kind(&name, "/bin/sh").unwrap(),
            Some(PathKind::File)
        );
        assert_eq!(engine.path_kind(&name, "/no/such/path").unwrap(), None);

        // Reuse while running: nothing to start.
        match engine.ensure_container(&s).unwrap() {
            Ensured::Reused { started, info } => {
                assert!(!started);
                assert_eq!(info.id, first.info().id);
            }
            other => panic!("expected reuse, got {other:?}"),
        }

        // Stop (fast thanks to --init), then reuse starts the same container again.
        let t = Instant::now();
        engine
            .stop_container(&name, Duration::from_secs(10))
            .unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "stop took {:?}",
            t.elapsed()
        );
        assert_eq!(engine.container(&name).unwrap().unwrap().state, "exited");
        engine
            .stop_container(&name, Duration::from_secs(1))
            .unwrap(); // stopping again is fine
        match engine.ensure_container(&s).unwrap() {
            Ensured::Reused { started, info } => {
                assert!(started);
                assert!(info.running());
                assert_eq!(info.id, first.info().id);
            }
            other => panic!("expected reuse, got {other:?}"),
        }

        // Remove; then there is no such container, and removing again is fine.
        engine.remove_managed(&name, true).unwrap();
        assert!(engine.container(&name).unwrap().is_none());
        engine.remove_container(&name, true).unwrap();
        let e = engine
            .exec(&name, &sh("true"), &ExecLogs::default(), |_, _| {})
            .unwrap_err();
        assert!(matches!(e, DockerError::ContainerMissing { .. }), "{e}");
    });
}

#[test]
fn exec_streams_while_running_and_times_out() {
    with_engine(
        "exec_streams_while_running_and_times_out",
        |engine, cleanup| {
            let image = test_image(engine, cleanup);
            let name = unique("sglang-ci-test-stream");
            cleanup.container(&name);
            engine.ensure_container(&spec(&name, &image)).unwrap();

            // Output arrives as it is printed, not at the end; one combined file keeps the order.
            let dir = tempfile::tempdir().unwrap();
            let logs = ExecLogs::combined(dir.path().join("both.log"));
            let start = Instant::now();
            let mut seen: Vec<(StreamKind, String, Duration)> = Vec::new();
            let out = engine
                .exec(
                    &name,
                    &sh("echo first; sleep 2; echo second >&2; sleep 1; echo third"),
                    &logs,
                    |k, b| seen.push((k, String::from_utf8_lossy(b).into_owned(), start.elapsed())),
                )
                .unwrap();
            assert!(out.success());
            let text: String = seen.iter().map(|s| s.1.as_str()).collect();
            assert_eq!(text, "first\nsecond\nthird\n");
            assert_eq!(
                std::fs::read_to_string(dir.path().join("both.log")).unwrap(),
                "first\nsecond\nthird\n"
            );
            assert_eq!(seen[0].0, StreamKind::Stdout);
            assert!(
                seen.iter()
                    .any(|s| s.0 == StreamKind::Stderr && s.1 == "second\n")
            );
            assert!(
                seen[0].2 + Duration::from_millis(1500) < out.elapsed,
                "first chunk at {:?} of {:?}: not streamed",
                seen[0].2,
                out.elapsed
            );

            // Appending keeps what was there.
            let logs = ExecLogs {
                append: true,
                ..ExecLogs::combined(dir.path().join("both.log"))
            };
            engine
                .exec(&name, &sh("echo more"), &logs, |_, _| {})
                .unwrap();
            assert!(
                std::fs::read_to_string(dir.path().join("both.log"))
                    .unwrap()
                    .ends_with("third\nmore\n")
            );

            // A command that outlives its limit: exit code 124, and we return promptly.
            let mut slow = sh("echo started; sleep 30");
            slow.timeout = Some(Duration::from_secs(1));
            let t = Instant::now();
            let out = engine
                .exec(&name, &slow, &ExecLogs::default(), |_, _| {})
                .unwrap();
            assert!(out.timed_out);
            assert_eq!(out.exit_code, TIMEOUT_EXIT_CODE);
            assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        },
    );
}

#[test]
fn clean_up_never_touches_a_foreign_container() {
    with_engine(
        "clean_up_never_touches_a_foreign_container",
        |engine, cleanup| {
            let image = test_image(engine, cleanup);

            // A container someone else started: plain bollard, no label.
            let foreign = unique("sglang-ci-test-foreign");
            cleanup.container(&foreign);
            let bollard = engine.engine().bollard();
            engine
                .block_on(
                    bollard.create_container(
                        Some(
                            bollard::query_parameters::CreateContainerOptionsBuilder::new()
                                .name(&foreign)
                                .build(),
                        ),
                        bollard::models::ContainerCreateBody {
                            image: Some(image.clone()),
                            host_config: Some(bollard::models::HostConfig {
                                init: Some(true),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                    ),
                )
                .unwrap();
            engine.start_container(&foreign).unwrap();
            let ours = unique("sglang-ci-test-ours");
            cleanup.container(&ours);
            engine.ensure_container(&spec(&ours, &image)).unwrap();

            let stopped = engine.stop_managed_running(Duration::from_secs(5)).unwrap();
            assert!(stopped.contains(&ours), "{stopped:?}");
            assert!(!stopped.contains(&foreign), "{stopped:?}");
            let f = engine.container(&foreign).unwrap().unwrap();
            assert!(f.running() && !f.managed, "{f:?}");
            assert!(
                f.labels.contains_key(IMAGE_LABEL),
                "the foreign container inherits our image's label, which must not make it ours"
            );
            assert!(!engine.container(&ours).unwrap().unwrap().running());
            assert!(
                engine
                    .list_managed(true)
                    .unwrap()
                    .iter()
                    .all(|c| c.name != foreign)
            );

            // The GPU idle check's clean-up (gpu-probe) with docker-ctl's stop: busy GPUs make it stop
            // our running containers only; the foreign one keeps running.
            engine.start_container(&ours).unwrap();
            let busy = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../fixtures/gpu-probe/rocm-smi-mi300x-one-busy.txt"
            );
            let probe = gpu_probe::Probe {
                command: gpu_probe::ProbeCommand::Shell(format!("cat '{busy}'")),
                timeout: Duration::from_secs(5),
                thresholds: gpu_probe::Thresholds::NIGHTLY,
            };
            let report = gpu_probe::ensure_idle(
                &probe,
                Duration::from_millis(200),
                Duration::from_millis(50),
                |_| engine.stop_managed_running(Duration::from_secs(5)),
            );
            assert!(report.first.verdict.is_busy());
            let stopped = report.stopped.unwrap().unwrap();
            assert!(
                stopped.contains(&ours) && !stopped.contains(&foreign),
                "{stopped:?}"
            );
            assert!(engine.container(&foreign).unwrap().unwrap().running());

            let e = engine.remove_managed(&foreign, true).unwrap_err();
            assert!(matches!(e, DockerError::Foreign { .. }), "{e}");
            assert!(
                e.to_string().contains("was not created by sglang-ci"),
                "{e}"
            );
            assert!(engine.container(&foreign).unwrap().unwrap().running());
        },
    );
}

#[test]
fn missing_image_pull_failure_and_bad_build_are_one_line_errors() {
    let Some(engine) =
        connect_or_skip("missing_image_pull_failure_and_bad_build_are_one_line_errors")
    else {
        return;
    };
    let missing = "sglang-ci-test/does-not-exist:0";
    let e = engine
        .ensure_container(&spec(&unique("sglang-ci-test-none"), missing))
        .unwrap_err();
    assert!(matches!(e, DockerError::ImageMissing { .. }), "{e}");
    let msg = e.to_string();
    assert!(!msg.contains('\n') && msg.contains("docker pull"), "{msg}");
    assert!(!engine.image_exists(missing).unwrap());

    // No registry answers here (or, with one, the repository does not exist).
    let mut progress = 0;
    let e = engine
        .pull(missing, Duration::from_secs(120), |_| progress += 1)
        .unwrap_err();
    assert!(matches!(e, DockerError::PullFailed { .. }), "{e}");
    assert!(!e.to_string().contains('\n'), "{e}");

    // A build step that fails names the step output.
    let mut ctx = docker_ctl::BuildContext::new();
    ctx.dockerfile("FROM scratch\nCOPY missing-file /x\n")
        .unwrap();
    let tag = format!("{}:1", unique("sglang-ci-test/broken"));
    let e = engine
        .build_image(
            ctx.finish().unwrap(),
            &tag,
            &BTreeMap::new(),
            Duration::from_secs(120),
            |_| {},
        )
        .unwrap_err();
    assert!(matches!(e, DockerError::BuildFailed { .. }), "{e}");
    assert!(e.to_string().contains("missing-file"), "{e}");
}

#[test]
fn import_tag_and_remove_an_image() {
    with_engine("import_tag_and_remove_an_image", |engine, cleanup| {
        let reference = format!("{}:1", unique("sglang-ci-test/imported"));
        let twin = format!("{}:2", unique("sglang-ci-test/imported"));
        cleanup.image(&reference);
        cleanup.image(&twin);
        let mut ctx = docker_ctl::BuildContext::new();
        ctx.file("hello.txt", b"hi\n", 0o644).unwrap();
        engine
            .import_rootfs(
                ctx.finish().unwrap(),
                &reference,
                &[format!("LABEL {IMAGE_LABEL}=true")],
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(engine.image_exists(&reference).unwrap());
        engine.tag_image(&reference, &twin).unwrap();
        assert!(engine.image_exists(&twin).unwrap());
        let managed = engine
            .block_on(engine.engine().list_managed_images())
            .unwrap();
        assert!(managed.contains(&reference), "{managed:?}");
        engine.remove_image(&twin, false).unwrap();
        assert!(!engine.image_exists(&twin).unwrap());
        let e = engine
            .tag_image("sglang-ci-test/none:0", &twin)
            .unwrap_err();
        assert!(matches!(e, DockerError::ImageMissing { .. }), "{e}");
    });
}

#[test]
fn unreachable_daemon_gives_the_documented_error() {
    // No daemon needed: a socket nobody listens on, a missing socket, a bad scheme.
    let dir = tempfile::tempdir().unwrap();
    let dead = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let cfg = |host: String| EngineConfig {
        host,
        call_timeout: Duration::from_secs(5),
    };
    let t = Instant::now();
    let e = BlockingEngine::connect_with(&cfg(format!("unix://{}", dead.display()))).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(matches!(e, DockerError::Unreachable { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot reach the Docker daemon at unix://{}",
            dead.display()
        )),
        "{msg}"
    );
    assert!(msg.contains("DOCKER_HOST") && !msg.contains('\n'), "{msg}");
    assert!(e.is_unreachable());

    let gone = dir.path().join("gone.sock");
    let e = BlockingEngine::connect_with(&cfg(format!("unix://{}", gone.display()))).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");

    let e = BlockingEngine::connect_with(&cfg("ftp://x".into())).unwrap_err();
    assert!(matches!(e, DockerError::BadHost { .. }), "{e}");

    // A TCP port with nothing behind it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = BlockingEngine::connect_with(&cfg(format!("tcp://127.0.0.1:{port}"))).unwrap_err();
    assert!(matches!(e, DockerError::Unreachable { .. }), "{e:?}");
}
