#version 330 core
// Planar YUV 4:2:0 (three GL_R8 textures) to RGB. The matrix (BT.601 or BT.709) and the
// range (limited 16-235/240 or full 0-255) come from each decoded frame, never guessed here.
in vec2 v_uv;
out vec4 o_color;

uniform sampler2D u_y;
uniform sampler2D u_u;
uniform sampler2D u_v;
uniform int u_bt709;       // 1: BT.709, 0: BT.601
uniform int u_full_range;  // 1: full (JPEG) range, 0: limited (video) range
uniform float u_alpha;
// Chroma planes of odd-sized pictures hold half a sample more than the picture covers:
// (w / 2) / ((w + 1) / 2) horizontally, likewise vertically.
uniform vec2 u_chroma_scale;

void main() {
  float y = texture(u_y, v_uv).r;
  float u = texture(u_u, v_uv * u_chroma_scale).r - 128.0 / 255.0;
  float v = texture(u_v, v_uv * u_chroma_scale).r - 128.0 / 255.0;
  if (u_full_range == 0) {
    y = (y - 16.0 / 255.0) * (255.0 / 219.0);
    u *= 255.0 / 224.0;
    v *= 255.0 / 224.0;
  }
  vec3 rgb;
  if (u_bt709 == 1) {
    rgb = vec3(y + 1.5748 * v, y - 0.187324 * u - 0.468124 * v, y + 1.8556 * u);
  } else {
    rgb = vec3(y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u);
  }
  o_color = vec4(clamp(rgb, 0.0, 1.0), u_alpha);
}
