"""Image reference helpers shared by the lab and the offline build."""


def containerd_name(image: str) -> str:
    """The fully qualified name containerd lists for a Docker image reference
    (nginx:1.27 -> docker.io/library/nginx:1.27)."""
    first = image.split("/")[0]
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{image}"
    return image
