"""Runs one pod through containerd's CRI socket the way kubelet does, and reports what happened.

Usage: pod.py GENERATED_DIR SOCKET RUNTIME_HANDLER PAUSE_IMAGE APP_IMAGE NAME LOG_DIR CGROUP_PARENT STATE_DIR

GENERATED_DIR holds the Python modules grpc_tools.protoc made from cri-subset.proto; STATE_DIR is
the --root the handler's runtime keeps its containers' state in. The report,
one JSON object on stdout, lists each CRI call with whether it succeeded (and the error if not),
the app container's ExecSync output, and what the host sees of the sandbox's process: the test
asserts on those; this script judges nothing. Whatever fails, the pod is stopped and removed.
"""
import json
import os
import sys
import time

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import cri_subset_pb2 as cri  # noqa: E402
import cri_subset_pb2_grpc as cri_grpc  # noqa: E402

_, _, socket, handler, pause_image, app_image, name, log_dir, cgroup_parent, state_dir = sys.argv

channel = grpc.insecure_channel("unix://" + socket)
runtime = cri_grpc.RuntimeServiceStub(channel)
images = cri_grpc.ImageServiceStub(channel)
report = {"steps": []}

# What kubelet sends for a pod whose containers share its network, IPC and PID namespaces
# (shareProcessNamespace: true); UTS is always the pod's.
pod_namespaces = cri.NamespaceOption(network=cri.POD, pid=cri.POD, ipc=cri.POD)
sandbox_config = cri.PodSandboxConfig(
    metadata=cri.PodSandboxMetadata(name=name, uid=name + "-uid", namespace="contlab", attempt=0),
    hostname=name,
    log_directory=log_dir,
    labels={"contlab-test": name},
    linux=cri.LinuxPodSandboxConfig(
        cgroup_parent=cgroup_parent,
        security_context=cri.LinuxSandboxSecurityContext(namespace_options=pod_namespaces)))

# The app's ExecSync prints one fact a line: what PID 1 of its PID namespace runs, its
# hostname, its own PID there, then its namespaces' ids.
PROBE = ("tr '\\0' ' ' < /proc/1/cmdline; echo; hostname; echo $$; "
         "for ns in net ipc uts pid mnt; do readlink /proc/self/ns/$ns; done")


def step(name, call):
    """Makes one CRI call; records it, and returns its response (None if it failed)."""
    try:
        response = call()
        report["steps"].append({"name": name, "ok": True})
        return response
    except grpc.RpcError as error:
        report["steps"].append({"name": name, "ok": False, "error": "%s: %s" % (error.code(), error.details())})
        return None


def read_log(name):
    """containerd's CRI log of a container: one "TIME STREAM F TEXT" a line, without the time."""
    path = os.path.join(log_dir, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return [line.split(" ", 1)[1].rstrip("\n") for line in f if " " in line]


def host_view(pid):
    """The sandbox's process as the host sees it: its command line and namespace ids."""
    view = {"process": pid}
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        view["cmdline"] = f.read().replace(b"\0", b" ").decode()
    for ns in ["net", "ipc", "uts", "pid", "mnt"]:
        view[ns] = os.readlink("/proc/%d/ns/%s" % (pid, ns))
    return view


sandbox_id = container_id = sandbox_pid = None
try:
    step("Version", lambda: runtime.Version(cri.VersionRequest(version="v1")))
    # A missing image would be pulled: stop before anything asks for one that is not here.
    local = [step("ImageStatus", lambda: images.ImageStatus(cri.ImageStatusRequest(image=cri.ImageSpec(image=image))))
             for image in [pause_image, app_image]]
    report["images"] = [list(found.image.repo_tags) if found else None for found in local]
    ran = None
    if all(found and found.image.id for found in local):
        ran = step("RunPodSandbox", lambda: runtime.RunPodSandbox(
            cri.RunPodSandboxRequest(config=sandbox_config, runtime_handler=handler), timeout=60))
    if ran:
        sandbox_id = ran.pod_sandbox_id
        status = step("PodSandboxStatus", lambda: runtime.PodSandboxStatus(
            cri.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id, verbose=True)))
        if status:
            report["sandbox_state"] = cri.PodSandboxState.Name(status.status.state)
            sandbox_pid = json.loads(status.info.get("info", "{}")).get("pid")
        app = cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name="app", attempt=0),
            image=cri.ImageSpec(image=app_image),
            command=["/bin/sh", "-c"],
            args=["echo app started; trap 'exit 3' TERM; while :; do sleep 1; done"],
            log_path="app.log",
            linux=cri.LinuxContainerConfig(
                security_context=cri.LinuxContainerSecurityContext(namespace_options=pod_namespaces)))
        created = step("CreateContainer", lambda: runtime.CreateContainer(cri.CreateContainerRequest(
            pod_sandbox_id=sandbox_id, config=app, sandbox_config=sandbox_config), timeout=60))
        if created:
            container_id = created.container_id
            step("StartContainer", lambda: runtime.StartContainer(
                cri.StartContainerRequest(container_id=container_id), timeout=60))
            running = step("ContainerStatus", lambda: runtime.ContainerStatus(
                cri.ContainerStatusRequest(container_id=container_id)))
            if running:
                report["app_state_started"] = cri.ContainerState.Name(running.status.state)
            result = step("ExecSync", lambda: runtime.ExecSync(
                cri.ExecSyncRequest(container_id=container_id, cmd=["/bin/sh", "-c", PROBE], timeout=20), timeout=30))
            if result:
                report["exec"] = {"stdout": result.stdout.decode(), "stderr": result.stderr.decode(),
                                  "exit_code": result.exit_code}
            # Read now, beside the probe: runc's start returns before its init has exec'd the
            # sandbox's command, so right after RunPodSandbox it may still be "runc init".
            if sandbox_pid:
                report["sandbox"] = host_view(sandbox_pid)
            # Which runtime runs the pod: the one holding both containers' state.
            report["ids"] = sorted([sandbox_id, container_id])
            report["runtime_state"] = sorted(os.listdir(state_dir)) if os.path.isdir(state_dir) else []
            step("StopContainer", lambda: runtime.StopContainer(
                cri.StopContainerRequest(container_id=container_id, timeout=10), timeout=60))
            report["app_log"] = read_log("app.log")
            stopped = step("ContainerStatus", lambda: runtime.ContainerStatus(
                cri.ContainerStatusRequest(container_id=container_id)))
            if stopped:
                report["app_state_stopped"] = cri.ContainerState.Name(stopped.status.state)
                report["app_exit_code"] = stopped.status.exit_code
            if step("RemoveContainer", lambda: runtime.RemoveContainer(
                    cri.RemoveContainerRequest(container_id=container_id), timeout=60)):
                container_id = None

        # A container with a terminal (kubectl run -t): containerd's shim gives the runtime a
        # console socket, and what the process writes comes back through the pty to the log.
        tty = cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name="tty", attempt=0), image=cri.ImageSpec(image=app_image),
            command=["/bin/sh", "-c"], args=["tty"], log_path="tty.log", tty=True,
            linux=cri.LinuxContainerConfig(
                security_context=cri.LinuxContainerSecurityContext(namespace_options=pod_namespaces)))
        created = step("CreateContainer", lambda: runtime.CreateContainer(cri.CreateContainerRequest(
            pod_sandbox_id=sandbox_id, config=tty, sandbox_config=sandbox_config), timeout=60))
        if created:
            container_id = created.container_id
            step("StartContainer", lambda: runtime.StartContainer(
                cri.StartContainerRequest(container_id=container_id), timeout=60))
            # It ends by itself: ask until containerd says so, at most 20 s.
            for _ in range(200):
                ended = runtime.ContainerStatus(cri.ContainerStatusRequest(container_id=container_id))
                if ended.status.state == cri.CONTAINER_EXITED:
                    break
                time.sleep(0.1)
            report["tty_state"] = cri.ContainerState.Name(ended.status.state)
            report["tty_exit_code"] = ended.status.exit_code
            report["tty_log"] = read_log("tty.log")
            if step("RemoveContainer", lambda: runtime.RemoveContainer(
                    cri.RemoveContainerRequest(container_id=container_id), timeout=60)):
                container_id = None
        step("StopPodSandbox", lambda: runtime.StopPodSandbox(
            cri.StopPodSandboxRequest(pod_sandbox_id=sandbox_id), timeout=60))
        after = step("PodSandboxStatus", lambda: runtime.PodSandboxStatus(
            cri.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)))
        if after:
            report["sandbox_state_stopped"] = cri.PodSandboxState.Name(after.status.state)
        if step("RemovePodSandbox", lambda: runtime.RemovePodSandbox(
                cri.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id), timeout=60)):
            sandbox_id = None
finally:
    # A failed step must not leave the pod running: remove what is left, as kubelet's garbage
    # collector would, without recording these calls as steps.
    leftovers = []
    if container_id:
        leftovers.append((runtime.RemoveContainer, cri.RemoveContainerRequest(container_id=container_id)))
    if sandbox_id:
        leftovers.append((runtime.StopPodSandbox, cri.StopPodSandboxRequest(pod_sandbox_id=sandbox_id)))
        leftovers.append((runtime.RemovePodSandbox, cri.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id)))
    for call, request in leftovers:
        try:
            call(request, timeout=30)
        except grpc.RpcError as error:
            report.setdefault("cleanup_errors", []).append(str(error.details()))
    print(json.dumps(report))
