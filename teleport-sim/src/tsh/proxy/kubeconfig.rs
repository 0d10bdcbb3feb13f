//! The kubeconfig `tsh proxy kube` writes for its consumers (`tool/tsh/common/kube_proxy.go`,
//! `makeKubeLocalProxy` / `writeKubeconfig`): one cluster, user and context per Kubernetes
//! cluster, all pointing at the local proxy. Real tsh removes it on exit; the simulator leaves
//! it in the profile directory, which the control plane owns.

use super::text::Profile;
use crate::error::SimError;

/// Writes the kubeconfig for `clusters` behind the proxy on `port`; returns its path. Nothing is
/// written when neither `TELEPORT_HOME` nor `HOME` is set (the path is then `~/.tsh/…`, which
/// the simulator does not expand): it never writes under the working directory.
pub fn write(clusters: &[String], profile: &Profile, port: u16) -> Result<String, SimError> {
    let path = profile.kubeconfig_path(port);
    if !path.starts_with('/') {
        return Ok(path);
    }
    let context = |kube: &String| format!("{}-{kube}", profile.cluster);
    let mut text = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for kube in clusters {
        text.push_str(&format!(
            "- name: {}\n  cluster:\n    server: https://127.0.0.1:{port}\n    tls-server-name: {kube}.kube-teleport-local.{}\n",
            context(kube),
            profile.cluster
        ));
    }
    text.push_str("contexts:\n");
    for kube in clusters {
        text.push_str(&format!("- name: {0}\n  context:\n    cluster: {0}\n    user: {0}\n", context(kube)));
    }
    let current = clusters.first().map(context).unwrap_or_default();
    text.push_str(&format!("current-context: {current}\nusers:\n"));
    for kube in clusters {
        text.push_str(&format!("- name: {}\n  user: {{}}\n", context(kube)));
    }
    let fail = |err: std::io::Error| SimError::msg(format!("failed to write kubeconfig {path}: {err}"));
    if let Some(dir) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(&path, text).map_err(fail)?;
    Ok(path)
}
